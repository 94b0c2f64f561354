"""Clarification queries for the demo registry, so that its quality dashboard has queries of every age.

Written straight to the tables, with dates in the past that the services would never set (they
stamp the present), and without e-mail: the demo's users and cases are invented.
"""

from __future__ import annotations

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from partner.accounts.models import Membership, Role

from .models import Finding, FindingStatus, Query, QueryMessage, QueryStatus

QUESTIONS = {
    "error": "Please check this value against the clinical record: as entered, it cannot be right.",
    "warning": "This value is unusual. Could you check it, and correct it or tell us it is right?",
    "query": "A rare combination for this age. Is it confirmed by the pathology report?",
}
ANSWERS = [
    "Checked with the pathology report: the value is correct.",
    "It was a typing error; corrected in the form.",
    "Central review confirmed the diagnosis; we have added the report number.",
]


@transaction.atomic
def demo_queries(seed: int, share: float = 0.8) -> int:
    """Raise queries on a share of the open findings, some answered, some closed; returns how many."""
    r = random.Random(seed)
    coordinators = {m.country_id: m.user for m in Membership.objects.filter(role=Role.NATIONAL_COORDINATOR)}
    managers = {m.centre_id: m.user for m in Membership.objects.filter(role=Role.DATA_MANAGER)}
    european = Membership.objects.filter(role=Role.EUROPEAN_COORDINATOR).order_by("pk").first()
    now = timezone.now()
    made = 0
    for finding in Finding.objects.filter(status=FindingStatus.OPEN).select_related("case__centre").order_by("pk"):
        coordinator = coordinators.get(finding.case.centre.country_id) or (european.user if european else None)
        if coordinator is None or r.random() > share:
            continue
        raised = now - dt.timedelta(days=r.randint(1, 120), hours=r.randint(0, 23))
        query = Query(
            case=finding.case,
            field=finding.field,
            row=finding.row,
            finding=finding,
            question=QUESTIONS.get(finding.severity, QUESTIONS["warning"]),
            due=(raised + dt.timedelta(days=14)).date(),
            raised_by=coordinator,
        )
        query._history_user = coordinator  # type: ignore[attr-defined]
        query.save()
        QueryMessage.objects.create(query=query, author=coordinator, text=query.question)
        manager = managers.get(finding.case.centre_id)
        answered = raised + dt.timedelta(days=r.randint(1, 30), hours=r.randint(0, 23))
        if manager is not None and answered < now and r.random() < 0.6:
            query.status, query.answered_at = QueryStatus.ANSWERED, answered
            QueryMessage.objects.create(query=query, author=manager, text=r.choice(ANSWERS))
            if r.random() < 0.5:
                query.status, query.closed_at = QueryStatus.CLOSED, min(now, answered + dt.timedelta(days=2))
            query._history_user = manager  # type: ignore[attr-defined]
            query.save()
        Query.objects.filter(pk=query.pk).update(raised_at=raised)
        made += 1
    return made
