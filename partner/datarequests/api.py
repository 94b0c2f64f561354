"""REST API of data requests (mounted at /api/requests): the same services and rules as the pages."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError
from ninja.pagination import paginate
from pydantic import ConfigDict

from partner.accounts.auth import API_AUTH
from partner.api_inputs import Pagination
from partner.cases.models import AccessLog

from . import services
from .models import DataRequest, RequestStatus

router = Router(tags=["data requests"], auth=API_AUTH)


class CohortIn(Schema):
    model_config = ConfigDict(extra="forbid")

    entities: list[str] = Field(default_factory=list, description="VRT entity codes, e.g. ACC; empty for every entity")
    countries: list[str] = Field(
        default_factory=list, description="ISO 3166 codes of the registering centres' countries"
    )
    period_start: dt.date | None = Field(default=None, description="diagnosed on or after")
    period_end: dt.date | None = Field(default=None, description="diagnosed on or before")
    age_groups: list[str] = Field(default_factory=list, description="0-4, 5-9, 10-14, 15-19 (years at diagnosis)")
    sexes: list[str] = Field(default_factory=list, description="codes of the registration form's sex field")
    stages: list[str] = Field(default_factory=list, description="stage groups as recorded, e.g. II")


class RequestIn(Schema):
    title: str = Field(min_length=1, max_length=200)
    purpose: str = Field(min_length=1, max_length=10000)
    variables: list[str] = Field(description="fields of the data dictionary in force, as form.field")
    cohort: CohortIn = Field(default_factory=lambda: CohortIn())


class DecisionIn(Schema):
    decision: Literal["approved", "rejected"]
    note: str = Field("", max_length=5000, description="required to reject: the reason, which the researcher reads")


class HistoryOut(Schema):
    when: dt.datetime
    who: str
    event: str
    note: str


class RequestOut(Schema):
    id: int
    title: str
    requester: str
    status: RequestStatus
    variables: list[str]
    cohort: dict[str, Any]
    dictionary_version: int
    created: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_note: str
    download_count: int
    last_downloaded_at: dt.datetime | None


class RequestDetailOut(RequestOut):
    purpose: str
    history: list[HistoryOut]


class Problem(Schema):
    field: str
    message: str


class Invalid(Schema):
    detail: str
    errors: list[Problem]


class Error(Schema):
    detail: str


def _out(item: DataRequest) -> dict[str, Any]:
    return {
        "id": item.pk,
        "title": item.title,
        "requester": item.requester.get_username(),
        "status": item.status,
        "variables": item.variables,
        "cohort": item.cohort,
        "dictionary_version": item.dictionary_version,
        "created": item.created,
        "decided_by": item.decided_by.get_username() if item.decided_by else None,
        "decided_at": item.decided_at,
        "decision_note": item.decision_note,
        "download_count": item.download_count,
        "last_downloaded_at": item.last_downloaded_at,
    }


def _detail(item: DataRequest) -> dict[str, Any]:
    return {**_out(item), "purpose": item.purpose, "history": services.history(item)}


def _visible(request: HttpRequest, request_id: int) -> DataRequest:
    return get_object_or_404(services.visible(request.user), pk=request_id)


def _invalid(exc: ValidationError, detail: str) -> Status:
    if hasattr(exc, "error_dict"):
        errors = [{"field": k, "message": m} for k, messages in exc.message_dict.items() for m in messages]
    else:
        errors = [{"field": "", "message": m} for m in exc.messages]
    return Status(422, {"detail": f"{detail}: " + "; ".join(e["message"] for e in errors), "errors": errors})


@router.get(
    "",
    response={200: list[RequestOut], 403: Error},
    summary="Data requests: a researcher's own, every one for the European coordinator",
)
@paginate(Pagination)
def list_requests(request: HttpRequest, status: str | None = None) -> list[dict[str, Any]]:
    if not services.may_use(request.user):
        raise HttpError(403, _("Data requests are for researchers and the European coordinator."))
    found = services.visible(request.user)
    if status:
        found = found.filter(status=status)  # an unknown status matches nothing
    return [_out(item) for item in found.order_by("-created", "-id")]


@router.post(
    "",
    response={201: RequestDetailOut, 403: Error, 422: Invalid},
    summary="Submit a data request (researchers): purpose, variables and cohort",
)
def post_request(request: HttpRequest, payload: RequestIn) -> Any:
    try:
        item = services.submit(
            user=request.user,
            title=payload.title,
            purpose=payload.purpose,
            variables=payload.variables,
            cohort=payload.cohort.model_dump(mode="json"),
        )
    except PermissionDenied as exc:
        return Status(403, {"detail": str(exc)})
    except ValidationError as exc:
        return _invalid(exc, _("the request was not submitted"))
    return Status(201, _detail(item))


@router.get("/{request_id}", response={200: RequestDetailOut, 404: Error}, summary="One data request with its history")
def get_request(request: HttpRequest, request_id: int) -> Any:
    return _detail(_visible(request, request_id))


ACTION_RESPONSES: dict[int, Any] = {200: RequestDetailOut, 403: Error, 404: Error, 409: Error, 422: Invalid}


@router.post(
    "/{request_id}/decision",
    response=ACTION_RESPONSES,
    summary="Approve or reject a submitted request (the European coordinator); a note is required to reject",
)
def post_decision(request: HttpRequest, request_id: int, payload: DecisionIn) -> Any:
    item = _visible(request, request_id)
    try:
        item = services.decide(item, user=request.user, decision=payload.decision, note=payload.note)
    except PermissionDenied as exc:
        return Status(403, {"detail": str(exc)})
    except services.NotNow as exc:
        return Status(409, {"detail": str(exc)})
    except ValidationError as exc:
        return _invalid(exc, _("nothing was decided"))
    return Status(200, _detail(item))


@router.post(
    "/{request_id}/withdraw", response=ACTION_RESPONSES, summary="Withdraw your own request while it is submitted"
)
def post_withdraw(request: HttpRequest, request_id: int) -> Any:
    item = _visible(request, request_id)
    try:
        item = services.withdraw(item, user=request.user)
    except PermissionDenied as exc:
        return Status(403, {"detail": str(exc)})
    except services.NotNow as exc:
        return Status(409, {"detail": str(exc)})
    return Status(200, _detail(item))


@router.get(
    "/{request_id}/extract",
    response={403: Error, 404: Error, 409: Error},
    summary="The pseudonymised extract of your approved request, as a zip of CSV files (every download is logged)",
    openapi_extra={"responses": {200: {"description": "a zip", "content": {"application/zip": {}}}}},
)
def get_extract(request: HttpRequest, request_id: int) -> Any:
    item = _visible(request, request_id)
    try:
        extract = services.download(item, user=request.user, channel=AccessLog.Channel.API)
    except PermissionDenied as exc:
        return Status(403, {"detail": str(exc)})
    except services.NotNow as exc:
        return Status(409, {"detail": str(exc)})
    response = HttpResponse(extract.content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{extract.filename}"'
    response["Cache-Control"] = "no-store"
    return response
