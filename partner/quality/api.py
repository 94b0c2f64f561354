"""REST API of quality findings (mounted at /api/quality): the same scoping and confirmation as the web."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.pagination import paginate
from ninja.params.functions import Query as query_param

from partner.accounts.auth import API_AUTH
from partner.api_inputs import LARGEST, Pagination
from partner.cases.models import TumourCase
from partner.dictionary.loader import get_dictionary

from .models import Finding, FindingStatus
from .presentation import shown
from .services import confirm

router = Router(tags=["quality"], auth=API_AUTH)


class FindingOut(Schema):
    id: int
    case: int
    rule: str
    severity: str
    field: str
    instance: int
    values: str
    message: str
    status: str
    reason: str
    confirmed_by: str | None


class Confirmation(Schema):
    reason: str


class Error(Schema):
    detail: str


def findings_out(findings: Any) -> list[dict[str, Any]]:
    """Findings as the API gives them, messages in the request's language."""
    return [
        {
            "id": s.finding.pk,
            "case": s.finding.case_id,
            "rule": s.finding.rule,
            "severity": s.finding.severity,
            "field": s.finding.field,
            "instance": s.finding.row,
            "values": s.finding.values,
            "message": s.message,
            "status": s.finding.status,
            "reason": s.finding.reason,
            "confirmed_by": s.finding.confirmed_by.username if s.finding.confirmed_by else None,
        }
        for s in shown(findings, get_dictionary())
    ]


def case_findings(case: TumourCase) -> list[dict[str, Any]]:
    """The open findings of a case, for the responses of the cases API after a save."""
    return findings_out(case.findings.filter(status=FindingStatus.OPEN).select_related("confirmed_by"))


@router.get("/findings", response=list[FindingOut], summary="Quality findings in your scope")
@paginate(Pagination)
def list_findings(
    request: HttpRequest,
    # Bounded here, not by RowId: under @paginate, ninja reads the annotations in its own module.
    case: int | None = query_param(None, ge=1, le=LARGEST),
    status: str | None = "open",
    severity: str | None = None,
    rule: str | None = None,
) -> list[dict[str, Any]]:
    rows = Finding.objects.filter(case__in=TumourCase.objects.restrict(request.user)).select_related("confirmed_by")
    if case is not None:
        rows = rows.filter(case_id=case)
    if status:
        rows = rows.filter(status=status)
    if severity:
        rows = rows.filter(severity=severity)
    if rule:
        rows = rows.filter(rule=rule)
    return findings_out(rows.order_by("case_id", "field", "row", "rule"))


@router.post(
    "/findings/{finding_id}/confirm",
    response={200: FindingOut, 404: Error, 422: Error},
    summary="Confirm a warning or query: the value is right, for the reason given",
)
def confirm_finding(request: HttpRequest, finding_id: int, payload: Confirmation) -> Any:
    finding = Finding.objects.filter(pk=finding_id, case__in=TumourCase.objects.restrict(request.user)).first()
    if finding is None:
        return Status(404, {"detail": f"no finding {finding_id} in your scope"})
    try:
        finding = confirm(finding, request.user, payload.reason)
    except PermissionDenied:
        return Status(404, {"detail": f"no finding {finding_id} in your scope"})
    except ValidationError as exc:
        return Status(422, {"detail": " ".join(exc.messages)})
    return Status(200, findings_out([finding])[0])
