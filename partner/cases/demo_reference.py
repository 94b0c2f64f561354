"""The demo registry's countries, national groups, centres and one user per role."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from partner.accounts.models import Centre, Country, Membership, NationalGroup, Role

DEMO_PASSWORD = "demo-registry-2026"

COUNTRIES = [
    (
        "IT",
        "Italy",
        "TREP",
        "Tumori Rari in Età Pediatrica",
        [
            ("IT-PD", "Paediatric Haematology-Oncology", "Padova"),
            ("IT-MI", "Paediatric Oncology Unit", "Milano"),
            ("IT-RM", "Paediatric Oncology", "Roma"),
            ("IT-TO", "Paediatric Onco-Haematology", "Torino"),
            ("IT-NA", "Paediatric Oncology", "Napoli"),
        ],
    ),
    (
        "FR",
        "France",
        "FRACTURE",
        "France Cancers de l'Enfant Très Rares",
        [
            ("FR-PA", "Paediatric Oncology", "Paris"),
            ("FR-LY", "Paediatric Oncology", "Lyon"),
            ("FR-MA", "Paediatric Haematology-Oncology", "Marseille"),
            ("FR-LI", "Paediatric Oncology", "Lille"),
        ],
    ),
    (
        "DE",
        "Germany",
        "STEP",
        "Seltene Tumorerkrankungen in der Pädiatrie",
        [
            ("DE-HA", "Paediatric Haematology and Oncology", "Hannover"),
            ("DE-MU", "Paediatric Oncology", "München"),
            ("DE-BE", "Paediatric Oncology", "Berlin"),
            ("DE-ES", "Paediatric Haematology and Oncology", "Essen"),
        ],
    ),
    (
        "PL",
        "Poland",
        "PPRTG",
        "Polish Paediatric Rare Tumours Study Group",
        [
            ("PL-WA", "Paediatric Oncology", "Warszawa"),
            ("PL-KR", "Paediatric Oncology and Haematology", "Kraków"),
            ("PL-GD", "Paediatric Haematology and Oncology", "Gdańsk"),
        ],
    ),
    (
        "GB",
        "United Kingdom",
        "CCLG-RT",
        "CCLG Rare Tumours Group",
        [
            ("GB-LO", "Paediatric Oncology", "London"),
            ("GB-BI", "Paediatric Oncology", "Birmingham"),
            ("GB-MA", "Paediatric Oncology", "Manchester"),
            ("GB-GL", "Paediatric Oncology", "Glasgow"),
        ],
    ),
]

#: Each centre's name in its country's language, shown on pages in that language.
LOCAL_NAMES = {
    "IT-PD": "Oncoematologia Pediatrica",
    "IT-MI": "Struttura di Oncologia Pediatrica",
    "IT-RM": "Oncologia Pediatrica",
    "IT-TO": "Oncoematologia Pediatrica",
    "IT-NA": "Oncologia Pediatrica",
    "FR-PA": "Oncologie pédiatrique",
    "FR-LY": "Oncologie pédiatrique",
    "FR-MA": "Hématologie et oncologie pédiatrique",
    "FR-LI": "Oncologie pédiatrique",
    "DE-HA": "Pädiatrische Hämatologie und Onkologie",
    "DE-MU": "Kinderonkologie",
    "DE-BE": "Kinderonkologie",
    "DE-ES": "Pädiatrische Hämatologie und Onkologie",
    "PL-WA": "Onkologia Dziecięca",
    "PL-KR": "Onkologia i Hematologia Dziecięca",
    "PL-GD": "Hematologia i Onkologia Dziecięca",
}

#: (username, role, centre code or country code or None)
DEMO_USERS = [
    ("dm.padova", Role.DATA_MANAGER, "IT-PD"),
    ("dm.paris", Role.DATA_MANAGER, "FR-PA"),
    ("clinician.padova", Role.CLINICIAN, "IT-PD"),
    ("nc.italy", Role.NATIONAL_COORDINATOR, "IT"),
    ("nc.france", Role.NATIONAL_COORDINATOR, "FR"),
    ("ec.europe", Role.EUROPEAN_COORDINATOR, None),
    ("expert.acc", Role.EXPERT, None),
    # More experts, so that every panel has at least three from at least two countries (partner.consult.demo).
    ("expert.lyon", Role.EXPERT, None),
    ("expert.essen", Role.EXPERT, None),
    ("expert.roma", Role.EXPERT, None),
    ("expert.krakow", Role.EXPERT, None),
    ("expert.london", Role.EXPERT, None),
    ("expert.paris", Role.EXPERT, None),
    ("researcher", Role.RESEARCHER, None),
]


@transaction.atomic
def build_reference(password: str = DEMO_PASSWORD) -> dict[str, Centre]:
    """Countries, national groups, centres and one demo user per role (idempotent)."""
    centres: dict[str, Centre] = {}
    countries: dict[str, Country] = {}
    for code, name, acronym, group, sites in COUNTRIES:
        country, _ = Country.objects.get_or_create(code=code, defaults={"name": name})
        countries[code] = country
        NationalGroup.objects.get_or_create(country=country, defaults={"acronym": acronym, "name": group})
        for centre_code, centre_name, city in sites:
            local = LOCAL_NAMES.get(centre_code, "")
            centres[centre_code], _ = Centre.objects.get_or_create(
                code=centre_code, defaults={"name": centre_name, "local_name": local, "city": city, "country": country}
            )
            if local and not centres[centre_code].local_name:  # a demo registry built before local names
                Centre.objects.filter(pk=centres[centre_code].pk).update(local_name=local)
                centres[centre_code].local_name = local
    User = get_user_model()
    for username, role, scope in DEMO_USERS:
        user, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.org"})
        if created:
            user.set_password(password)
            user.save()
            Membership.objects.create(
                user=user,
                role=role,
                centre=centres[scope] if role in (Role.DATA_MANAGER, Role.CLINICIAN) and scope else None,
                country=countries[scope] if role == Role.NATIONAL_COORDINATOR and scope else None,
            )
    admin, created = User.objects.get_or_create(username="admin", defaults={"is_staff": True, "is_superuser": True})
    if created:
        admin.set_password(password)
        admin.save()
    return centres
