"""FHIR import over the API (mounted at /api/fhir): one mCODE Bundle becomes one case, with its report.

The centres a user may import into are those of the tabular import (`import_centres`), and the case
is registered through the case service, which checks the user's role at that centre. Nothing is
written when the bundle is refused; the report says why, and what would have been taken.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Body, Field, Query, Router, Schema, Status

from partner.accounts.auth import API_AUTH
from partner.cases.guard import NotPermitted
from partner.cases.models import Status as CaseStatus

from .fhir_import import import_bundle_reported
from .fhir_report import refusal
from .forms import import_centres

router = Router(tags=["fhir"], auth=API_AUTH)


class ImportParams(Schema):
    centre: str | None = Field(None, description="the centre's code; needed if you import into several")
    status: str = Field(CaseStatus.DRAFT, pattern="^(draft|submitted)$", description="the new case's status")


class LineOut(Schema):
    resource: str = Field(description="the resource's type and fullUrl (else its id)")
    element: str
    field: str = Field(description='the form and field: "diagnosis.tnm_t", "treatment 2.surgery_type"')
    value: str
    severity: str
    message: str


class ReportOut(Schema):
    source: str
    centre: str
    case: int | None
    taken: list[LineOut] = Field(description="each value taken, and the element it came from")
    taken_otherwise: list[LineOut] = Field(description="what was taken otherwise than given, and why")
    left_out: list[LineOut] = Field(description="each element or resource left out, and why")
    findings: list[LineOut] = Field(description="the quality findings raised on the new case")
    refused: list[LineOut] = Field(description="what refused the import (nothing is written then)")


class ImportOut(Schema):
    case: int
    report: ReportOut


class RefusedOut(Schema):
    detail: str
    report: ReportOut


class Error(Schema):
    detail: str


@router.post(
    "/bundles",
    response={201: ImportOut, 400: RefusedOut, 403: Error, 422: RefusedOut},
    summary="Register the case of an HL7 FHIR R4 (mCODE) Bundle at a centre of yours, with the import's report",
)
def post_bundle(request: HttpRequest, params: Query[ImportParams], bundle: Body[dict[str, Any]]) -> Any:
    """The body is the Bundle itself, as JSON."""
    user: Any = request.user
    centres = list(import_centres(user))
    if not centres:
        return Status(403, {"detail": "only those who register cases at a centre import bundles"})
    codes = ", ".join(sorted(c.code for c in centres))
    if params.centre:
        centre = next((c for c in centres if c.code.upper() == params.centre.strip().upper()), None)
        if centre is None:
            return Status(403, {"detail": f"you import into {codes}, not into {params.centre}"})
    elif len(centres) > 1:
        return Status(403, {"detail": f"you import into several centres: give centre, one of {codes}"})
    else:
        centre = centres[0]
    try:
        done = import_bundle_reported(bundle, centre=centre, user=user, status=params.status, source="bundle")
    except NotPermitted as exc:
        return Status(403, {"detail": str(exc)})
    report = done.report.as_json()
    if done.case is None:
        detail = f"nothing imported: {refusal(done.report)}"
        return Status(400 if not done.report.readable else 422, {"detail": detail, "report": report})
    return Status(201, {"case": done.case.pk, "report": report})
