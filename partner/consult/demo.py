"""Expert panels and consultations for the demo registry, so that the consultation pages and their
dashboard have requests in every state and turnaround times to show.

Each consultation is made through the services, as the clinician, the coordinator and the experts
would make it. The services stamp the present; each step's stamps are then moved to a moment in the
past (as partner.quality.demo does for its queries), history included. No e-mail is sent: the demo's
users and cases are invented.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.test.utils import override_settings
from django.utils import timezone
from PIL import Image, ImageDraw

from partner.accounts.countries import languages_of
from partner.accounts.models import CENTRE_ROLES, Country, Membership, Role
from partner.cases.models import TumourCase

from . import services
from .models import (
    DUE_DAYS,
    Adherence,
    Assignment,
    Attachment,
    Consultation,
    Message,
    PanelMember,
    Recommendation,
    Urgency,
)

#: username -> (invented name, country, panels). Every panel: at least three experts from two countries.
SEATS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "expert.acc": ("Marta Galli", "IT", ("endocrine", "genitourinary_breast")),
    "expert.lyon": ("Claire Moreau", "FR", ("endocrine", "head_neck", "skin_melanoma")),
    "expert.essen": ("Jan Becker", "DE", ("endocrine", "thoracic", "sarcoma_like")),
    "expert.roma": ("Paolo Ricci", "IT", ("head_neck", "gastrointestinal", "thoracic")),
    "expert.krakow": ("Anna Zielińska", "PL", ("gastrointestinal", "genitourinary_breast", "sarcoma_like")),
    "expert.london": ("Helen Clarke", "GB", ("endocrine", "head_neck", "skin_melanoma", "thoracic")),
    "expert.paris": (
        "Thomas Lefèvre",
        "FR",
        ("gastrointestinal", "genitourinary_breast", "sarcoma_like", "skin_melanoma"),
    ),
}

#: username -> invented name, for the demo's clinicians and data managers who ask the panels (the letter is
#: addressed to them by name).
REQUESTERS = {"clinician.padova": "Giulia Bianchi", "dm.padova": "Luca Ferri", "dm.paris": "Sophie Martin"}

#: (question, the panel's recommendation), by entity, and for any other entity.
ADVICE: dict[str | None, list[tuple[str, str]]] = {
    "ACC": [
        (
            "Complete resection of a 7 cm tumour, Weiss score 5, no capsular rupture. Is adjuvant mitotane "
            "indicated, and for how long?",
            "Adjuvant mitotane for at least 12 months, aiming at plasma levels of 14-20 mg/l, with hydrocortisone "
            "replacement. Test for a germline TP53 variant and offer the family genetic counselling.",
        )
    ],
    "THYROID_CA": [
        (
            "Papillary carcinoma with lateral neck node metastases after total thyroidectomy: radioiodine, and at "
            "which activity?",
            "Radioiodine ablation with an activity adjusted to body weight, after a diagnostic scan; TSH suppression "
            "and thyroglobulin follow-up every six months for the first two years.",
        )
    ],
    "MELANOMA": [
        (
            "Breslow 2.4 mm with ulceration, sentinel node positive: completion lymph node dissection or "
            "observation, and is adjuvant treatment indicated?",
            "Nodal observation with ultrasound every four months rather than a dissection. Discuss adjuvant "
            "anti-PD-1 treatment with the family; it is reasonable in an adolescent at this stage.",
        )
    ],
    "NPC": [
        (
            "Locally advanced nasopharyngeal carcinoma, EBV positive: how many cycles of induction chemotherapy, "
            "and which radiotherapy dose after a complete response?",
            "Three cycles of induction chemotherapy, then chemoradiotherapy; after a complete response the dose to "
            "the primary may be reduced to 54-59.4 Gy to spare late effects.",
        )
    ],
    "PPB": [
        (
            "Type II pleuropulmonary blastoma resected with positive margins: which chemotherapy, and should the "
            "child be tested for DICER1?",
            "IVADo-based chemotherapy as in the European protocol for type II/III tumours. Test for a germline "
            "DICER1 variant, and if present screen the child and the relatives.",
        )
    ],
    None: [
        (
            "Complete resection with close margins (under 1 mm). Is there a role for re-excision, radiotherapy or "
            "adjuvant chemotherapy, or is observation enough?",
            "Observation is enough after a complete resection: no adjuvant treatment. Imaging of the primary site "
            "every three months for two years, then every six months.",
        ),
        (
            "Relapse 18 months after the end of treatment, resectable on imaging. Which second-line treatment would "
            "the panel advise?",
            "Resection of the relapse if a complete resection is feasible, followed by a second-line chemotherapy "
            "chosen on the molecular profile of the relapse; share the molecular report with the panel.",
        ),
        (
            "Partial response after four cycles of chemotherapy. Is a second-look surgery worth its risk?",
            "Yes: a second-look surgery aiming at a complete resection, in a centre experienced with this tumour. "
            "Two more cycles afterwards if viable tumour remains.",
        ),
    ],
}
EXPERT_ASKS = [
    "Was the pathology reviewed centrally? Could you attach the report?",
    "Do you have the post-operative imaging? The extent of the resection matters for our advice.",
    "Has a germline predisposition been tested for?",
]
CENTRE_ANSWERS = [
    "Central review confirmed the diagnosis; the report is attached.",
    "Post-operative imaging shows no residual tumour.",
    "Genetic testing has been requested; the result is expected within a month.",
]
DISSENT = "I would add a shorter interval of imaging for the first year."
REVISION = " Imaging every two months during the first year."
REASONS = {
    Adherence.Followed.PARTLY: "Treatment stopped after six months: poor tolerance.",
    Adherence.Followed.NO: "The family preferred observation only.",
}


@dataclass(frozen=True)
class Plan:
    """One demo consultation: where it stands, how long ago it was submitted, and what happened."""

    state: str  # submitted, assigned, drafted, sent, followed or withdrawn
    days_ago: float
    urgency: str = Urgency.ROUTINE
    turnaround: float = 0.6  # of the days allowed, for a sent recommendation: above 1 is late
    dissent: bool = False
    followed: str = ""
    attachment: bool = False
    panel: str = ""  # a panel to ask, when the centre has a case for it


PLANS = [
    Plan("submitted", 1.2, attachment=True),
    Plan("submitted", 6, Urgency.URGENT),  # overdue: nobody assigned yet
    Plan("drafted", 4, panel="endocrine"),  # with the panel: a draft, one vote of three
    Plan("assigned", 19),  # overdue: the panel has not answered
    Plan("sent", 30, Urgency.URGENT, turnaround=0.8),
    Plan("sent", 64, turnaround=1.4),  # sent late
    Plan("sent", 110, turnaround=0.5, dissent=True, attachment=True),
    Plan("followed", 190, turnaround=0.7, followed=Adherence.Followed.YES),
    Plan("followed", 260, Urgency.URGENT, turnaround=0.9, followed=Adherence.Followed.PARTLY),
    Plan("followed", 330, turnaround=1.2, followed=Adherence.Followed.NO),
    Plan("withdrawn", 45),
]


def seat_panels() -> list[PanelMember]:
    """The demo experts' seats on the panels (idempotent); the experts get invented names."""
    countries = {c.code: c for c in Country.objects.filter(code__in={s[1] for s in SEATS.values()})}
    seats = []
    for user in get_user_model().objects.filter(username__in=SEATS).order_by("username"):
        name, country, panels = SEATS[user.username]
        if not user.first_name and not user.last_name:
            user.first_name, user.last_name = name.split(" ", 1)
            user.save(update_fields=["first_name", "last_name"])
        for panel in panels:
            member, _ = PanelMember.objects.get_or_create(
                user=user, panel=panel, defaults={"country": countries[country]}
            )
            seats.append(member)
    return seats


def demo_consultations(seed: int) -> int:
    """Panel seats and a handful of consultations in every state, on cases of the centres that have demo
    clinicians or data managers. Returns how many consultations were made."""
    seat_panels()
    r = random.Random(seed)
    requesters: dict[int, list[Any]] = {}
    for m in Membership.objects.filter(role__in=CENTRE_ROLES, user__is_active=True).order_by("pk"):
        if m.centre_id is not None:
            requesters.setdefault(m.centre_id, []).append(m.user)
            name = REQUESTERS.get(m.user.username)
            if name and not m.user.first_name and not m.user.last_name:
                m.user.first_name, m.user.last_name = name.split(" ", 1)
                m.user.save(update_fields=["first_name", "last_name"])
    coordinators = {
        m.country_id: m.user for m in Membership.objects.filter(role=Role.NATIONAL_COORDINATOR).order_by("pk")
    }
    european = Membership.objects.filter(role=Role.EUROPEAN_COORDINATOR).order_by("pk").first()
    cases = _cases(requesters)
    if not cases or european is None:
        return 0
    began = timezone.now()
    made = 0
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"), transaction.atomic():
        for i, plan in enumerate(PLANS):
            submitted = began - dt.timedelta(days=plan.days_ago, hours=r.uniform(1, 8))
            case = _pick(cases, i, submitted.date(), plan.panel)
            coordinator = coordinators.get(case.centre.country_id, european.user)
            _play(plan, case, r.choice(requesters[case.centre_id]), coordinator, r, submitted, began)
            made += 1
    return made


def _cases(requesters: dict[int, list[Any]]) -> dict[int, list[TumourCase]]:
    """Per centre, the cases a panel answers for, most recently diagnosed first."""
    found = (
        TumourCase.objects.filter(centre_id__in=requesters, entity__isnull=False, withdrawal__isnull=True)
        .exclude(entity__panel="")
        .exclude(status="draft")
        .exclude(consultations__isnull=False)
        .select_related("entity", "centre")
        .order_by("-diagnosis_date", "pk")
    )
    by_centre: dict[int, list[TumourCase]] = {}
    for case in found:
        by_centre.setdefault(case.centre_id, []).append(case)
    return by_centre


def _pick(cases: dict[int, list[TumourCase]], i: int, before: dt.date, panel: str) -> TumourCase:
    """A case of the centres in turn, the most recent diagnosed at least a fortnight before the request
    (of the panel asked for, if any); a case asked about already only when the centre has no other."""
    centres = sorted(cases)
    pool = cases[centres[i % len(centres)]]
    fitting = [c for c in pool if c.diagnosis_date and c.diagnosis_date <= before - dt.timedelta(days=14)]
    chosen = next((c for c in fitting if c.entity and c.entity.panel == panel), fitting[0] if fitting else pool[0])
    pool.remove(chosen)
    pool.append(chosen)  # still there, last, for a centre that runs out
    return chosen


def _play(
    plan: Plan,
    case: TumourCase,
    requester: Any,
    coordinator: Any,
    r: random.Random,
    start: dt.datetime,
    began: dt.datetime,
) -> Consultation:
    advice = r.choice(ADVICE.get(case.entity.code if case.entity else None) or ADVICE[None])
    attachments = [(Attachment.Kind.RADIOLOGY, "mri-after-surgery.png", _image(r))] if plan.attachment else []
    clock = _Clock(
        began,
        start,
        lambda: services.submit(
            case,
            requester,
            question=advice[0],
            urgency=plan.urgency,
            attachments=attachments,
            language=min(languages_of(case.centre.country.code), default="en"),  # the centre's own
        ),
    )
    consultation = clock.consultation
    if plan.state == "submitted":
        return consultation
    # The moments of the steps: spread over the time taken, which is the turnaround of the days allowed once
    # sent, and the time since the request while it is open.
    allowed = DUE_DAYS[Urgency(plan.urgency)]
    span = dt.timedelta(days=allowed * plan.turnaround if plan.state in ("sent", "followed") else plan.days_ago * 0.8)

    def moment(share: float) -> dt.datetime:
        return start + span * share

    if plan.state == "withdrawn":
        clock.at(
            moment(0.1),
            lambda: services.post_message(consultation, requester, "The family has chosen a second opinion elsewhere."),
        )
        clock.at(moment(0.15), lambda: services.withdraw(consultation, requester))
        return consultation
    experts = _panel(consultation, r)
    clock.at(moment(0.1), lambda: services.assign(consultation, coordinator, experts))
    clock.at(moment(0.25), lambda: services.post_message(consultation, experts[1], r.choice(EXPERT_ASKS)))
    clock.at(moment(0.35), lambda: services.post_message(consultation, requester, r.choice(CENTRE_ANSWERS)))
    if plan.state == "assigned":
        return consultation
    clock.at(moment(0.5), lambda: services.draft(consultation, experts[1], advice[1]))
    clock.at(moment(0.6), lambda: services.vote(consultation, experts[1], Assignment.Vote.AGREE))
    if plan.state == "drafted":
        return consultation  # the others, the demo's own expert first, have yet to vote
    if plan.dissent:
        clock.at(moment(0.65), lambda: services.vote(consultation, experts[2], Assignment.Vote.DISSENT, DISSENT))
        clock.at(moment(0.7), lambda: services.draft(consultation, experts[2], advice[1] + REVISION))
        clock.at(moment(0.75), lambda: services.vote(consultation, experts[1], Assignment.Vote.AGREE))
    clock.at(moment(0.8), lambda: services.vote(consultation, experts[2], Assignment.Vote.AGREE))
    clock.at(moment(1.0), lambda: services.vote(consultation, experts[0], Assignment.Vote.AGREE))
    if plan.followed:
        followed = Adherence.Followed(plan.followed)
        clock.at(
            min(began - dt.timedelta(days=1), moment(1.0) + dt.timedelta(days=r.uniform(90, 150))),
            lambda: services.record_adherence(
                consultation,
                requester,
                followed=followed,
                outcome=Adherence.Outcome.NO_EVIDENCE,
                reason=REASONS.get(followed, ""),
            ),
        )
    return consultation


def _panel(consultation: Consultation, r: random.Random) -> list[Any]:
    """Three members of the panel from at least two countries, the demo's own expert first when a member."""
    members = list(services.candidates(consultation))
    r.shuffle(members)
    members.sort(key=lambda m: m.user.username != "expert.acc")
    chosen = [members[0]]
    chosen.append(next(m for m in members if m.country_id != chosen[0].country_id))
    chosen.append(next(m for m in members if m not in chosen))
    return [m.user for m in chosen]


def _image(r: random.Random) -> bytes:
    """A small grey picture standing in for an MRI slice."""
    image = Image.new("L", (160, 160), 12)
    draw = ImageDraw.Draw(image)
    draw.ellipse((20, 16, 140, 150), fill=70)
    x, y = r.randint(60, 90), r.randint(60, 90)
    draw.ellipse((x, y, x + 24, y + 20), fill=170)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class _Clock:
    """Runs a step through the services, then moves what it stamped at the present to the step's moment.

    The consultation the steps share is read again after each: a service saves the whole row, and would
    write back the present it was created with."""

    def __init__(self, began: dt.datetime, start: dt.datetime, submit: Callable[[], Consultation]) -> None:
        self.began = began
        self.consultation = submit()
        due = start + dt.timedelta(days=DUE_DAYS[Urgency(self.consultation.urgency)])
        Consultation.objects.filter(pk=self.consultation.pk).update(submitted_at=start, due=due)
        self._settle(start)

    def at(self, moment: dt.datetime, step: Callable[[], Any]) -> None:
        step()
        self._settle(moment)

    def _settle(self, moment: dt.datetime) -> None:
        for rows, column in self._stamped(self.consultation.pk):
            rows.filter(**{f"{column}__gte": self.began}).update(**{column: moment})
        self.consultation.refresh_from_db()
        if self.consultation.sent_at == moment:  # the letter written at sending bears the day it was sent
            from .letter import render_letter

            letter = self.consultation.recommendation.letter
            Path(letter.path).write_bytes(render_letter(self.consultation))

    @staticmethod
    def _stamped(pk: int) -> Iterator[tuple[QuerySet[Any], str]]:
        """The rows of one consultation and their columns the services stamp with the present."""
        yield Consultation.objects.filter(pk=pk), "first_response_at"
        yield Consultation.objects.filter(pk=pk), "sent_at"
        yield Consultation.history.filter(id=pk), "history_date"
        yield Attachment.objects.filter(consultation_id=pk), "uploaded_at"
        yield Attachment.history.filter(consultation_id=pk), "history_date"
        yield Assignment.objects.filter(consultation_id=pk), "assigned_at"
        yield Assignment.objects.filter(consultation_id=pk), "voted_at"
        yield Assignment.history.filter(consultation_id=pk), "history_date"
        yield Message.objects.filter(consultation_id=pk), "written"
        yield Recommendation.objects.filter(consultation_id=pk), "drafted_at"
        yield Recommendation.history.filter(consultation_id=pk), "history_date"
        yield Adherence.objects.filter(consultation_id=pk), "recorded_at"
        yield Adherence.history.filter(consultation_id=pk), "history_date"
