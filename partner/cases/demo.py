"""A reproducible synthetic registry for demonstration and tests.

Every value is invented. The entity mix, ages, sexes and outcomes are shaped like published
series of paediatric very rare tumours (thyroid carcinoma and melanoma the most frequent;
adrenocortical carcinoma in infants and adolescents; pleuropulmonary blastoma under six), so
that pages, quality control and analyses have something realistic to show.

About 2% of cases carry a deliberate error that each form accepts on its own but quality
control across forms must find: a treatment that starts before the diagnosis, a last contact
before the diagnosis, a male patient with an ovarian tumour, an onset after the diagnosis.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from partner.dictionary.loader import Dictionary
from partner.dictionary.schema import FieldDef, FormDef
from partner.dictionary.validation import validate_record
from partner.lib.pseudonym import Identity, pseudonym

from .demo_reference import build_reference
from .services import age_in_years, create_case

TODAY = dt.date(2026, 6, 30)  # fixed, so a seed gives the same registry on any day


@dataclass(frozen=True)
class Profile:
    weight: float
    codes: tuple[tuple[str, str], ...]  # (morphology, topography)
    age: Callable[[random.Random], float]
    female: float  # share of girls
    five_year_death: float  # rough probability of death within five years


def _uniform(lo: float, hi: float) -> Callable[[random.Random], float]:
    return lambda r: r.uniform(lo, hi)


def _bimodal(r: random.Random) -> float:
    return r.uniform(0.3, 4.5) if r.random() < 0.6 else r.uniform(10, 17.9)


PROFILES: dict[str | None, Profile] = {
    "THYROID_CA": Profile(
        22,
        (("8260/3", "C73.9"), ("8340/3", "C73.9"), ("8330/3", "C73.9"), ("8345/3", "C73.9")),
        _uniform(8, 17.9),
        0.75,
        0.01,
    ),
    "MELANOMA": Profile(
        14,
        (("8720/3", "C44.5"), ("8720/3", "C44.7"), ("8770/3", "C44.6"), ("8761/3", "C44.5")),
        _uniform(1, 17.9),
        0.55,
        0.1,
    ),
    "NPC": Profile(9, (("8072/3", "C11.9"), ("8071/3", "C11.1"), ("8082/3", "C11.9")), _uniform(9, 17.9), 0.35, 0.2),
    "ACC": Profile(8, (("8370/3", "C74.0"),), _bimodal, 0.65, 0.3),
    "COLORECTAL_CA": Profile(
        5, (("8140/3", "C18.7"), ("8480/3", "C20.9"), ("8490/3", "C18.2")), _uniform(10, 17.9), 0.45, 0.55
    ),
    "APPENDIX_CA": Profile(4, (("8240/3", "C18.1"),), _uniform(8, 17.9), 0.6, 0.01),
    "SALIVARY_CA": Profile(4, (("8430/3", "C07.9"), ("8550/3", "C07.9")), _uniform(8, 17.9), 0.6, 0.05),
    "PPB": Profile(4, (("8973/3", "C34.1"), ("8973/3", "C38.4")), _uniform(0.1, 6), 0.5, 0.35),
    "PANCREATOBLASTOMA": Profile(2, (("8971/3", "C25.0"), ("8971/3", "C25.2")), _uniform(0.5, 9), 0.45, 0.25),
    "GIST": Profile(2, (("8936/3", "C16.2"),), _uniform(9, 17.9), 0.7, 0.1),
    "DSRCT": Profile(2, (("8806/3", "C48.2"),), _uniform(6, 17.9), 0.15, 0.75),
    "PHEO_PGL": Profile(2, (("8700/3", "C74.1"), ("8693/3", "C75.5")), _uniform(6, 17.9), 0.45, 0.1),
    "NUT_CA": Profile(1, (("8023/3", "C34.1"), ("8023/3", "C11.9")), _uniform(8, 17.9), 0.5, 0.85),
    "THYMIC_CA": Profile(1, (("8585/3", "C37.9"),), _uniform(6, 17.9), 0.5, 0.3),
    "MESOTHELIOMA": Profile(1, (("9050/3", "C38.4"),), _uniform(4, 17.9), 0.5, 0.5),
    "CHORDOMA": Profile(1, (("9370/3", "C41.0"),), _uniform(3, 17.9), 0.5, 0.3),
    "PANCREAS_SPN": Profile(2, (("8452/3", "C25.2"),), _uniform(9, 17.9), 0.85, 0.01),
    "OVARY_SCST": Profile(2, (("8620/3", "C56.9"), ("8631/3", "C56.9")), _uniform(0.5, 17.9), 1.0, 0.05),
    "SKIN_CA": Profile(1, (("8090/3", "C44.3"),), _uniform(6, 17.9), 0.5, 0.01),
    # Mis-sent cases the registry must recognise as not VRT: a Wilms tumour and a neuroblastoma.
    None: Profile(3, (("8960/3", "C64.9"), ("9500/3", "C74.9")), _uniform(0.2, 8), 0.5, 0.1),
}

GIVEN = [
    "Luca",
    "Giulia",
    "Camille",
    "Léa",
    "Jonas",
    "Mia",
    "Zofia",
    "Jakub",
    "Oliver",
    "Amelia",
    "Matteo",
    "Chloé",
    "Paul",
    "Hanna",
    "Maja",
    "Noah",
]
FAMILY = [
    "Rossi",
    "Bianchi",
    "Martin",
    "Bernard",
    "Müller",
    "Schmidt",
    "Nowak",
    "Kowalski",
    "Smith",
    "Jones",
    "Ferrari",
    "Dubois",
    "Wójcik",
    "Weber",
    "Taylor",
    "Romano",
]

ERRORS = ("treatment_before_diagnosis", "contact_before_diagnosis", "male_ovary", "onset_after_diagnosis")


def _date(r: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    return lo if hi <= lo else lo + dt.timedelta(days=r.randint(0, (hi - lo).days))


class _Filler:
    """Fills a form's remaining fields with plausible values that its own validator accepts."""

    def __init__(self, r: random.Random, dates: tuple[dt.date, dt.date]):
        self.r = r
        self.dates = dates

    def value(self, f: FieldDef) -> Any:
        r = self.r
        if f.type in ("choice", "multichoice"):
            codes = [c.code for c in f.choices]
            usual = [c for c in codes if c not in ("unknown", "other", "not_assessed", "not_tested")] or codes
            if f.type == "choice":
                return r.choice(usual)
            return r.sample(usual, k=min(len(usual), r.randint(1, 2)))
        if f.type in ("integer", "decimal"):
            lo = f.min if f.min is not None else 0
            hi = f.max if f.max is not None else max(lo + 10, 100)
            hi = min(hi, lo + 200) if f.max is None or hi - lo > 1000 else hi
            x = lo + (hi - lo) * r.betavariate(1.6, 3.5)
            return round(x) if f.type == "integer" else round(x, f.decimals if f.decimals is not None else 1)
        if f.type == "date":
            return _date(r, *self.dates).isoformat()
        if f.type == "boolean":
            return r.random() < 0.4
        if f.type == "morphology":
            return "8000/3"
        if f.type == "topography":
            return "C80.9"
        if f.type == "code":
            return {
                "ORPHA": "ORPHA:1501",
                "HGNC": "TP53",
                "HGVS": "NM_000546.6:c.1010G>A",
                "HPO": "HP:0002664",
                "ICF": "b1440",
                "ISO3166": "IT",
                "UCUM": "mg",
            }[f.code_system or "UCUM"]
        return "see clinical notes"

    def fill(
        self, form: FormDef, given: dict[str, Any], context: dict[str, Any], optional: float = 0.5
    ) -> dict[str, Any]:
        values = dict(given)
        for _ in range(3):  # a filled field can reveal fields that depend on it
            for f in form.fields:
                if f.computed or f.code in values:
                    continue
                scope = {**context, **values}
                conditions = f.conditions()
                if "show_if" in conditions and not conditions["show_if"].evaluate(scope):
                    continue
                needed = f.required or ("required_if" in conditions and conditions["required_if"].evaluate(scope))
                if needed or self.r.random() < optional:
                    values[f.code] = self.value(f)
        # Drop what a later choice hid, so the record is consistent.
        result = validate_record(form, values, context=context, today=TODAY)
        hidden = {e.field for e in result.errors if e.message.startswith("must be empty")}
        return {k: v for k, v in values.items() if k not in hidden}


#: How a stage multiplies the entity's hazard of death, so that survival by stage parts as it does in life.
STAGE_HAZARD = {"I": 0.4, "II": 0.8, "III": 1.6, "IV": 3.5}

#: The staging system each entity's cases use; the others use TNM.
STAGE_SYSTEMS = {"NPC": "AJCC8", "ACC": "ENSAT", "MELANOMA": "AJCC8", "PPB": "PPB_TYPE", "PANCREATOBLASTOMA": "PRETEXT"}


@dataclass
class _Staging:
    diagnosis: dict[str, Any]
    modules: dict[str, dict[str, Any]]
    hazard: float


def _staging(r: random.Random, entity: str | None, morphology: str) -> _Staging:
    """A stage with the values of the diagnosis and the tumour module that agree with it and with the
    codes, as a real centre's do, and how much it shortens survival.

    Left to chance, a stage would contradict its own T, N and M, and quality control would drown the
    deliberate errors in accidental ones.
    """
    modules: dict[str, dict[str, Any]] = {}
    stage = r.choices(["I", "II", "III", "IV"], weights=[35, 30, 20, 15])[0]
    if entity == "NPC":
        stage = r.choice(["I", "II", "III", "IVA", "IVB"]) if r.random() >= 0.15 else "IVB"
        modules["npc"] = {"npc_m": "M1" if stage == "IVB" else "M0", "npc_stage": stage}
    elif entity == "THYROID_CA":
        # AJCC 8th edition, differentiated thyroid carcinoma before 55 years: stage II is M1, stage I the rest.
        stage = "II" if r.random() < 0.08 else "I"
        histology = {"8260/3": "papillary", "8340/3": "papillary", "8330/3": "follicular", "8345/3": "medullary"}
        modules["thyroid"] = {
            "thy_histology": histology.get(morphology, "papillary"),
            "thy_m": "M1" if stage == "II" else "M0",
        }
    elif entity == "ACC":
        diameter = round(r.uniform(2.0, 16.0), 1)
        nodes = "present" if r.random() < 0.1 else "absent"
        stage = "III" if nodes == "present" else ("I" if diameter <= 5 else "II")
        if r.random() < 0.15:
            stage = "IV"
        modules["acc"] = {
            "acc_weiss_score": r.randint(3, 9),
            "acc_largest_diameter_cm": diameter,
            "acc_nodal_involvement": nodes,
            "acc_ensat_stage": stage,
        }
    elif entity == "MELANOMA":
        breslow = round(r.uniform(0.2, 6.0), 1)
        stage = "IA" if breslow <= 1.0 else ("IB" if breslow <= 2.0 else r.choice(["IIA", "IIB", "IIIB", "IIIC"]))
        modules["melanoma"] = {"mel_breslow_mm": breslow, "mel_ajcc_stage": stage}
    elif entity == "PPB":
        stage = r.choices(["I", "Ir", "II", "III"], weights=[20, 15, 35, 30])[0]
        modules["ppb"] = {"ppb_type": stage}
    elif entity == "PANCREATOBLASTOMA":
        modules["pancreatoblastoma"] = {"pb_pretext": stage}
    system = STAGE_SYSTEMS.get(entity or "", "TNM8")
    metastatic = stage.startswith("IV") if entity != "THYROID_CA" else stage == "II"
    diagnosis: dict[str, Any] = {
        "stage_system": system,
        "stage_group": stage,
        "metastatic_at_diagnosis": "yes" if metastatic else "no",
    }
    if system in ("TNM8", "AJCC8") and entity not in ("NPC", "THYROID_CA"):
        diagnosis["tnm_m"] = "M1" if metastatic else "M0"
    main = stage.rstrip("ABCDr") if entity != "PPB" else {"I": "I", "Ir": "I"}.get(stage, stage)
    return _Staging(diagnosis, modules, STAGE_HAZARD.get(main, 1.0))


def _core_forms(
    d: Dictionary, r: random.Random, entity: str | None, error: str | None
) -> tuple[Identity, dict[str, Any]]:
    profile = PROFILES[entity]
    morphology, topography = r.choice(profile.codes)
    sex = "female" if r.random() < profile.female else "male"
    if error == "male_ovary":
        sex, morphology, topography = "male", "8620/3", "C56.9"
    age = profile.age(r)
    diagnosed = _date(r, dt.date(2005, 1, 1), TODAY - dt.timedelta(days=60))
    born = diagnosed - dt.timedelta(days=int(age * 365.25))
    identity = Identity(r.choice(GIVEN), r.choice(FAMILY) + f"-{r.randint(1, 10**6)}", born, sex, "IT")
    onset = diagnosed - dt.timedelta(days=r.randint(7, 200))
    if error == "onset_after_diagnosis":
        onset = diagnosed + dt.timedelta(days=r.randint(5, 60))
    onset = max(onset, born)

    # Outcome: exponential survival shaped by the entity's five-year mortality.
    staging = _staging(r, entity, morphology)
    rate = -math.log(1 - profile.five_year_death) / 5 if profile.five_year_death < 1 else 1.0
    death_after = r.expovariate(rate * staging.hazard) if rate > 0 else 99.0
    follow_up_end = min(TODAY, diagnosed + dt.timedelta(days=int(365.25 * r.uniform(0.5, 12))))
    death = diagnosed + dt.timedelta(days=max(30, int(death_after * 365.25)))
    dead = death <= follow_up_end
    last_contact = death if dead else follow_up_end
    if error == "contact_before_diagnosis":
        last_contact = diagnosed - dt.timedelta(days=r.randint(10, 90))

    forms: dict[str, Any] = {
        "registration": {"date_of_birth": born.isoformat(), "sex": sex},
        "diagnosis": {
            "diagnosis_date": diagnosed.isoformat(),
            "onset_date": onset.isoformat(),
            "morphology": morphology,
            "topography": topography,
            # Microscopic confirmation, as for nearly every very rare tumour.
            "basis_of_diagnosis": r.choices(["7", "6", "5"], weights=[90, 6, 4])[0],
            **staging.diagnosis,
        },
        **staging.modules,
        "status": {
            "patient_status": "dead" if dead else ("lost_to_follow_up" if r.random() < 0.04 else "alive"),
            "last_contact_date": last_contact.isoformat(),
            **({"date_of_death": death.isoformat()} if dead else {}),
        },
        "consent": {"consent_reuse": "given"},
        "_dates": (diagnosed, last_contact, dead),
    }
    return identity, forms


def _lines(
    d: Dictionary, r: random.Random, filler: _Filler, forms: dict[str, Any], entity: str | None, error: str | None
) -> None:
    diagnosed, last_contact, dead = forms.pop("_dates")
    treatment = d.form_by_code.get("treatment")
    if treatment is not None:
        kinds = (
            ["surgery"]
            + (["chemotherapy"] if r.random() < 0.55 else [])
            + (["radiotherapy"] if entity == "NPC" or r.random() < 0.25 else [])
        )
        lines: list[dict[str, Any]] = []
        start = diagnosed
        for kind in kinds:
            start = _date(r, start, min(start + dt.timedelta(days=60), max(start, last_contact)))
            start = min(start, max(diagnosed, last_contact))
            if error == "treatment_before_diagnosis" and not lines:
                start = diagnosed - dt.timedelta(days=r.randint(5, 40))
            filler.dates = (start, max(start, min(last_contact, start + dt.timedelta(days=200))))
            lines.append(
                filler.fill(treatment, {"line_type": kind, "treatment_start_date": start.isoformat()}, {}, 0.6)
            )
        forms["treatment"] = lines
    follow = d.form_by_code.get("follow_up")
    if follow is not None:
        events: list[dict[str, Any]] = []
        used: set[dt.date] = set()
        for _ in range(r.randint(1, 3)):
            when = _date(r, diagnosed + dt.timedelta(days=30), max(diagnosed + dt.timedelta(days=30), last_contact))
            if when in used:
                continue  # two assessments on one day would be one assessment entered twice
            used.add(when)
            kind = "relapse" if dead and not events else "response_assessment"
            filler.dates = (diagnosed, max(diagnosed, last_contact))
            events.append(
                filler.fill(follow, {"event_type": kind, "event_date": min(when, TODAY).isoformat()}, {}, 0.4)
            )
        forms["follow_up"] = events


#: Share of children registered a second time in another country, for the duplicate review.
DUPLICATE_SHARE = 0.01


def _typo(r: random.Random, name: str) -> str:
    """One letter of the name's first part swapped with its neighbour, as a hurried typist does."""
    head, sep, tail = name.partition("-")
    if len(head) < 3:
        return name
    i = r.randrange(1, len(head) - 1)
    return head[:i] + head[i + 1] + head[i] + head[i + 2 :] + sep + tail


def generate(d: Dictionary, *, patients: int, seed: int, key: str) -> Iterator[tuple[int, str | None]]:
    """Create `patients` synthetic cases; yields (number, error kind) as it goes, for a progress bar."""
    r = random.Random(seed)
    centres = build_reference()
    codes = sorted(centres)
    weights = {code: 3.0 if code in ("IT-PD", "FR-PA") else 1.0 for code in codes}
    known = set(d.entity_by_code)
    entities = [e for e in PROFILES if e is None or e in known]
    entity_weights = [PROFILES[e].weight for e in entities]
    for number in range(1, patients + 1):
        entity = r.choices(entities, weights=entity_weights)[0]
        error = r.choice(ERRORS) if r.random() < 0.02 else None
        identity, forms = _core_forms(d, r, entity, error)
        diagnosed = dt.date.fromisoformat(forms["diagnosis"]["diagnosis_date"])
        filler = _Filler(r, (diagnosed, TODAY))
        _lines(d, r, filler, forms, entity, error)
        diagnosis = forms["diagnosis"]
        entity = d.classifier.classify(
            diagnosis["morphology"], diagnosis["topography"]
        ).entity  # the modules follow the codes
        for form in d.forms:
            if form.is_module and entity not in form.entities:
                forms.pop(form.code, None)
        centre = centres[r.choices(codes, weights=[weights[c] for c in codes])[0]]
        context: dict[str, Any] = {}
        born = dt.date.fromisoformat(forms["registration"]["date_of_birth"])
        for form in d.forms:
            if form.repeating or (form.is_module and entity not in form.entities):
                continue
            filler.dates = (diagnosed, TODAY)
            forms[form.code] = filler.fill(form, forms.get(form.code, {}), context, 0.7 if form.is_module else 0.5)
            context.update({f"{form.code}.{k}": v for k, v in forms[form.code].items()})
        context["diagnosis.age_at_diagnosis"] = age_in_years(born, diagnosed)
        status = r.choices(["validated", "submitted", "draft", "locked"], weights=[6, 2, 1, 1])[0]
        create_case(
            dictionary=d,
            centre=centre,
            pseudonym=pseudonym(identity, key),
            forms=forms,
            status=status,
            external_id=f"DEMO-{seed}-{number:06d}",
            identity=identity,
        )
        if r.random() < DUPLICATE_SHARE:
            # The same child, referred abroad and registered again there, the family name mistyped.
            abroad = [c for c in codes if centres[c].country_id != centre.country_id]
            again = dataclasses.replace(identity, family_names=_typo(r, identity.family_names))
            create_case(
                dictionary=d,
                centre=centres[r.choice(abroad)],
                pseudonym=pseudonym(again, key),
                forms=forms,
                status="submitted",
                external_id=f"DEMO-{seed}-{number:06d}-R",
                identity=again,
            )
        yield number, error
