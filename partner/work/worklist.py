"""My work: what waits for one user, per role, as plain data the page and the API both give.

Every count is over the user's own scope (`restrict(user)` and the apps' `visible`), and every item
links to the list that shows exactly those rows (the list URLs take their filters in the query
string), or to the one object when a row is listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from partner.accounts.models import Role
from partner.accounts.security import is_coordinator, is_european_coordinator
from partner.cases.consent import reconsent_due
from partner.cases.followup import followup_due
from partner.cases.models import Status, TumourCase
from partner.consult import services as consultations
from partner.consult.models import Assignment, ConsultationStatus, Recommendation
from partner.datarequests import services as datarequests
from partner.datarequests.models import RequestStatus
from partner.linkage.models import CandidatePair, Decision
from partner.quality.models import Finding, FindingStatus, QueryStatus
from partner.quality.queries import field_label, overdue, scoped_queries
from partner.quality.rules.base import ERROR

#: Rows listed under an item (queries, consultations, votes, requests); the list behind its link has them all.
FIRST_ROWS = 5


@dataclass
class Row:
    """One thing to open: a query, a consultation, a request."""

    label: str
    url: str
    detail: str = ""
    new: bool = False


@dataclass
class Item:
    """One kind of thing waiting, with how many, where the list of them is, and the first few."""

    key: str
    label: str
    count: int
    url: str
    rows: list[Row] = field(default_factory=list)


def _list_url(name: str, **filters: str) -> str:
    return f"{reverse(name)}?{urlencode(filters)}" if filters else reverse(name)


# --- the items of each role --------------------------------------------------------------------


def _centre_items(user: Any, language: str, *, data_manager: bool) -> list[Item]:
    cases = TumourCase.objects.restrict(user)
    items = [
        Item(
            "drafts",
            _("Drafts to finish"),
            cases.filter(status=Status.DRAFT).count(),
            _list_url("cases:list", status=Status.DRAFT),
        )
    ]
    if data_manager:
        errors = Finding.objects.filter(case=OuterRef("pk"), status=FindingStatus.OPEN, severity=ERROR)
        waiting = scoped_queries(user).filter(status=QueryStatus.OPEN).select_related("case")
        items += [
            Item(
                "open_errors",
                _("Cases with open errors"),
                cases.filter(Exists(errors)).count(),
                _list_url("cases:list", open="errors"),
            ),
            Item(
                "queries",
                _("Clarification queries waiting for your answer"),
                waiting.count(),
                _list_url("quality:queries", status=QueryStatus.OPEN),
                [_query_row(q, language) for q in waiting.order_by("-raised_at", "-id")[:FIRST_ROWS]],
            ),
            Item(
                "followup_due",
                _("Follow-ups due (no contact for 12 months)"),
                len(followup_due(cases)),
                _list_url("cases:list", followup_due="1"),
            ),
            Item("reconsent_due", _("Re-consent due at 18"), len(reconsent_due(cases)), reverse("cases:reconsent")),
        ]
    sent = (
        consultations.visible(user)
        .filter(status=ConsultationStatus.SENT, case__in=cases, adherence__isnull=True)
        .select_related("case")
        .order_by("sent_at", "pk")
    )
    items.append(
        Item(
            "recommendations",
            _("Recommendations to follow up"),
            sent.count(),
            _list_url("consult:list", status=ConsultationStatus.SENT),
            [_consultation_row(c, _("record whether it was followed")) for c in sent[:FIRST_ROWS]],
        )
    )
    return items


def _coordinator_items(user: Any, language: str) -> list[Item]:
    cases = TumourCase.objects.restrict(user)
    late = overdue(scoped_queries(user)).select_related("case").order_by("due", "pk")
    answered = scoped_queries(user).filter(status=QueryStatus.ANSWERED).select_related("case")
    unassigned = (
        consultations.visible(user)
        .filter(status=ConsultationStatus.SUBMITTED, assignments__isnull=True)
        .select_related("case")
        .order_by("due", "pk")
    )
    items = [
        Item(
            "to_validate",
            _("Cases to validate"),
            cases.filter(status=Status.SUBMITTED).count(),
            _list_url("cases:list", status=Status.SUBMITTED),
        ),
        Item(
            "overdue_queries",
            _("Overdue clarification queries"),
            late.count(),
            _list_url("quality:queries", overdue="1"),
            [_query_row(q, language) for q in late[:FIRST_ROWS]],
        ),
        Item(
            "answered_queries",
            _("Answered queries to close"),
            answered.count(),
            _list_url("quality:queries", status=QueryStatus.ANSWERED),
            [_query_row(q, language) for q in answered.order_by("answered_at", "pk")[:FIRST_ROWS]],
        ),
        Item(
            "unassigned_consultations",
            _("Consultations without experts"),
            unassigned.count(),
            _list_url("consult:list", unassigned="1"),
            [_consultation_row(c, _("assign the panel's experts")) for c in unassigned[:FIRST_ROWS]],
        ),
    ]
    if is_european_coordinator(user):
        pairs = CandidatePair.objects.filter(decision=Decision.PENDING)
        items.append(
            Item(
                "linkage",
                _("Possible duplicates to review"),
                pairs.count(),
                _list_url("linkage:queue", status="pending"),
            )
        )
    if datarequests.may_review(user):
        asked = datarequests.visible(user).filter(status=RequestStatus.SUBMITTED).order_by("created", "pk")
        items.append(
            Item(
                "requests_to_decide",
                _("Data requests to decide"),
                asked.count(),
                _list_url("datarequests:list", status=RequestStatus.SUBMITTED),
                [_request_row(r) for r in asked[:FIRST_ROWS]],
            )
        )
    return items


def _expert_items(user: Any) -> list[Item]:
    mine = Assignment.objects.filter(consultation=OuterRef("pk"), expert=user)
    unvoted = mine.filter(vote="")
    drafted = Recommendation.objects.filter(consultation=OuterRef("pk"))
    awaiting = (
        consultations.visible(user)
        .filter(Exists(mine), status=ConsultationStatus.ASSIGNED)
        .filter(~Exists(drafted) | Exists(unvoted))
        .select_related("case", "recommendation")
        .order_by("due", "pk")
    )
    rows = [
        _consultation_row(
            c,
            _("vote on version %(version)s of the recommendation") % {"version": c.recommendation.version}
            if hasattr(c, "recommendation")
            else _("draft the recommendation"),
        )
        for c in awaiting[:FIRST_ROWS]
    ]
    return [
        Item(
            "awaiting_me",
            _("Consultations waiting for your draft or vote"),
            awaiting.count(),
            _list_url("consult:list", awaiting="me"),
            rows,
        )
    ]


def _researcher_items(user: Any) -> list[Item]:
    own = datarequests.visible(user).filter(requester=user).order_by("-created", "-pk")
    return [
        Item(
            "my_requests",
            _("Your data requests"),
            own.count(),
            _list_url("datarequests:list", mine="1"),
            [_request_row(r) for r in own[:FIRST_ROWS]],
        )
    ]


# --- rows --------------------------------------------------------------------------------------


def _query_row(query: Any, language: str) -> Row:
    label = _("Case %(case)s · %(field)s") % {"case": query.case_id, "field": field_label(query.field, language)}
    if query.row:
        label += f" #{query.row}"
    due = _("due %(date)s") % {"date": query.due.isoformat()}
    if query.status == QueryStatus.OPEN and query.due < timezone.localdate():
        due = _("overdue since %(date)s") % {"date": query.due.isoformat()}
    return Row(label, reverse("quality:query", args=[query.pk]), due, new=query.answered_at is None)


def _consultation_row(consultation: Any, what: str) -> Row:
    label = _("Consultation %(number)s on case %(case)s · %(panel)s") % {
        "number": consultation.pk,
        "case": consultation.case_id,
        "panel": consultation.get_panel_display(),
    }
    detail = f"{what} · " + _("due %(date)s") % {"date": timezone.localdate(consultation.due).isoformat()}
    return Row(label, reverse("consult:detail", args=[consultation.pk]), detail)


def _request_row(data_request: Any) -> Row:
    return Row(
        str(data_request),
        reverse("datarequests:detail", args=[data_request.pk]),
        str(data_request.get_status_display()),
    )


# --- the whole list ----------------------------------------------------------------------------


def roles(user: Any) -> set[str]:
    if not user.is_authenticated or not user.is_active:
        return set()
    return {m.role for m in user.memberships.all()}


def work_for(user: Any, language: str = "en") -> list[Item]:
    """What waits for `user`, in the order of their roles: centre work, coordination, panel, research."""
    held = roles(user)
    items: list[Item] = []
    if held & {Role.DATA_MANAGER, Role.CLINICIAN}:
        items += _centre_items(user, language, data_manager=Role.DATA_MANAGER in held)
    if is_coordinator(user):
        items += _coordinator_items(user, language)
    if consultations.is_expert(user):
        items += _expert_items(user)
    if datarequests.may_request(user):
        items += _researcher_items(user)
    return _once(items)


def _once(items: Iterable[Item]) -> list[Item]:
    """Each item once, for a user who holds two roles that both give it."""
    kept: dict[str, Item] = {}
    for item in items:
        kept.setdefault(item.key, item)
    return list(kept.values())


def as_data(items: Iterable[Item]) -> list[dict[str, Any]]:
    return [asdict(item) for item in items]


def waiting(items: Iterable[Item]) -> int:
    """How many things wait in all."""
    return sum(item.count for item in items)
