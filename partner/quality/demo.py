"""Clarification queries for the demo registry, so that its quality dashboard has queries of every age.

Written straight to the tables, with dates in the past that the services would never set (they
stamp the present), and without e-mail: the demo's users and cases are invented.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.db import transaction
from django.utils import timezone

from partner.accounts.models import Membership, Role
from partner.cases.models import TumourCase

from .models import Finding, FindingStatus, Query, QueryMessage, QueryStatus

QUESTIONS = {
    "error": "Please check this value against the clinical record: as entered, it cannot be right.",
    "warning": "This value is unusual. Could you check it, and correct it or tell us it is right?",
    "query": "A rare combination for this age. Is it confirmed by the pathology report?",
}
#: Questions a coordinator asks without a finding: follow-up that may be out of date, a stage to complete.
ROUTINE = [
    ("status.last_contact_date", "Is there a more recent follow-up visit than this last contact?"),
    ("diagnosis.stage_system", "Could you add the stage at diagnosis from the staging report?"),
    ("diagnosis.pathology_review", "Was the diagnosis reviewed by a reference pathologist?"),
]
ANSWERS = [
    "Checked with the pathology report: the value is correct.",
    "It was a typing error; corrected in the form.",
    "Central review confirmed the diagnosis; we have added the report number.",
]


def _message(query: Query, author: Any, text: str, written: dt.datetime) -> None:
    message = QueryMessage.objects.create(query=query, author=author, text=text)
    QueryMessage.objects.filter(pk=message.pk).update(written=written)


@transaction.atomic
def demo_queries(seed: int, share: float = 0.8) -> int:
    """Raise queries on a share of the open findings, and a few routine ones at the centres that have a
    data manager to answer them; some answered, some closed. Returns how many."""
    r = random.Random(seed)
    coordinators = {
        m.country_id: m.user for m in Membership.objects.filter(role=Role.NATIONAL_COORDINATOR) if m.country_id
    }
    managers = {
        m.centre_id: m.user for m in Membership.objects.filter(role=Role.DATA_MANAGER) if m.centre_id is not None
    }
    european = Membership.objects.filter(role=Role.EUROPEAN_COORDINATOR).order_by("pk").first()
    now = timezone.now()
    made = 0
    asked: list[tuple[TumourCase, str, int, Finding | None, str]] = [
        (finding.case, finding.field, finding.row, finding, QUESTIONS.get(finding.severity, QUESTIONS["warning"]))
        for finding in Finding.objects.filter(status=FindingStatus.OPEN).select_related("case__centre").order_by("pk")
        if r.random() <= share
    ]
    for centre_id in sorted(managers):
        cases = list(TumourCase.objects.filter(centre_id=centre_id).select_related("centre").order_by("pk"))
        for case in r.sample(cases, k=min(len(cases), 8)):
            field, question = r.choice(ROUTINE)
            asked.append((case, field, 0, None, question))
    for case, field, row, finding, question in asked:
        coordinator = coordinators.get(case.centre.country_id) or (european.user if european else None)
        if coordinator is None:
            continue
        raised = now - dt.timedelta(days=r.randint(1, 120), hours=r.randint(0, 23))
        query = Query(
            case=case,
            field=field,
            row=row,
            finding=finding,
            question=question,
            due=(raised + dt.timedelta(days=14)).date(),
            raised_by=coordinator,
        )
        query._history_user = coordinator  # type: ignore[attr-defined]
        query.save()
        moments = [raised]
        _message(query, coordinator, question, raised)
        manager = managers.get(case.centre_id)
        answered = raised + dt.timedelta(days=r.randint(1, 30), hours=r.randint(0, 23))
        if manager is not None and answered < now and r.random() < 0.7:
            query.status, query.answered_at = QueryStatus.ANSWERED, answered
            query._history_user = manager  # type: ignore[attr-defined]
            query.save()
            _message(query, manager, r.choice(ANSWERS), answered)
            moments.append(answered)
            closed = min(now, answered + dt.timedelta(days=2))
            if r.random() < 0.5:
                query.status, query.closed_at = QueryStatus.CLOSED, closed
                query._history_user = coordinator  # type: ignore[attr-defined]
                query.save()
                moments.append(closed)
        Query.objects.filter(pk=query.pk).update(raised_at=raised)
        for record, moment in zip(query.history.order_by("history_id"), moments, strict=True):
            Query.history.filter(pk=record.pk).update(history_date=moment)
        made += 1
    return made
