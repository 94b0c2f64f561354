"""REST API of clarification queries (mounted at /api/quality/queries): the same services and scope as the pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from partner.accounts.auth import API_AUTH
from partner.api_inputs import Pagination
from partner.cases.models import AccessLog
from partner.cases.views import visible_case

from . import queries as services
from .models import Finding, Query, QueryStatus

router = Router(tags=["quality"], auth=API_AUTH)


class QueryOut(Schema):
    id: int
    case: int
    pseudonym: str = Field(description="the first characters of the patient's pseudonym")
    centre: str
    field: str = Field(description="form.field")
    field_label: str
    instance: int = Field(description="row of a repeating form; 0 otherwise")
    finding: int | None
    question: str
    status: QueryStatus
    due: dt.date
    overdue: bool
    raised_by: str
    raised_at: dt.datetime
    answered_at: dt.datetime | None
    closed_at: dt.datetime | None


class MessageOut(Schema):
    author: str
    text: str
    written: dt.datetime


class QueryDetailOut(QueryOut):
    messages: list[MessageOut]


class QueryIn(Schema):
    case: int
    field: str = Field(description="form.field of the data dictionary in force, e.g. diagnosis.morphology")
    question: str = Field(min_length=1, max_length=5000)
    due: dt.date | None = Field(None, description="today + 14 days when left out")
    instance: int = Field(0, ge=0, description="row of a repeating form; 0 otherwise")
    finding: int | None = Field(None, description="the quality finding the query follows from")


class MessageIn(Schema):
    text: str = Field(min_length=1, max_length=5000)


class CloseIn(Schema):
    text: str = Field("", max_length=5000)


class Problem(Schema):
    field: str
    message: str


class Invalid(Schema):
    detail: str
    errors: list[Problem]


class Error(Schema):
    detail: str


def _out(query: Query) -> dict[str, Any]:
    return {
        "id": query.pk,
        "case": query.case_id,
        "pseudonym": str(query.case.patient),
        "centre": query.case.centre.code,
        "field": query.field,
        "field_label": services.field_label(query.field),
        "instance": query.row,
        "finding": query.finding_id,
        "question": query.question,
        "status": query.status,
        "due": query.due,
        "overdue": query.status == QueryStatus.OPEN and query.due < timezone.localdate(),
        "raised_by": query.raised_by.username,
        "raised_at": query.raised_at,
        "answered_at": query.answered_at,
        "closed_at": query.closed_at,
    }


def _detail(query: Query) -> dict[str, Any]:
    thread = query.messages.select_related("author")
    return {
        **_out(query),
        "messages": [{"author": m.author.username, "text": m.text, "written": m.written} for m in thread],
    }


def _queries() -> Any:
    return Query.objects.select_related("case__patient", "case__centre", "raised_by")


def _visible(request: HttpRequest, query_id: int, what: str) -> Query:
    """The query if its case is in the user's scope (else 404), its case read logged."""
    query = get_object_or_404(_queries(), pk=query_id)
    visible_case(request, query.case_id, what, channel=AccessLog.Channel.API)
    return query


def _invalid(exc: ValidationError, detail: str) -> Status:
    if hasattr(exc, "error_dict"):
        errors = [{"field": k, "message": m} for k, messages in exc.message_dict.items() for m in messages]
    else:
        errors = [{"field": "", "message": m} for m in exc.messages]
    return Status(422, {"detail": f"{detail}: " + "; ".join(e["message"] for e in errors), "errors": errors})


@router.get("", response=list[QueryOut], summary="Clarification queries on the cases in your scope")
@paginate(Pagination)
def list_queries(request: HttpRequest, status: str | None = None, overdue: bool = False) -> list[dict[str, Any]]:
    found = services.scoped_queries(request.user).select_related("case__patient", "case__centre", "raised_by")
    if status:
        found = found.filter(status=status)  # an unknown status matches nothing
    if overdue:
        found = services.overdue(found)
    return [_out(q) for q in found.order_by("due", "id")]


@router.get("/{query_id}", response={200: QueryDetailOut, 404: Error}, summary="One query with its messages")
def get_query(request: HttpRequest, query_id: int) -> dict[str, Any]:
    return _detail(_visible(request, query_id, "api query"))


@router.post(
    "",
    response={201: QueryDetailOut, 403: Error, 404: Error, 422: Invalid},
    summary="Raise a query on one field of a case (coordinators); the centre's data managers get an e-mail",
)
def post_query(request: HttpRequest, payload: QueryIn) -> Any:
    case = visible_case(request, payload.case, "api query raise", channel=AccessLog.Channel.API)
    finding = None
    if payload.finding is not None:
        finding = Finding.objects.filter(pk=payload.finding, case=case).first()
        if finding is None:
            return Status(422, {"detail": f"case {case.pk} has no finding {payload.finding}", "errors": []})
    try:
        query = services.raise_query(
            case, payload.field, payload.question, payload.due, request.user, instance=payload.instance, finding=finding
        )
    except PermissionDenied as exc:
        return Status(403, {"detail": str(exc)})
    except ValidationError as exc:
        return _invalid(exc, "the query was not raised")
    return Status(201, _detail(_queries().get(pk=query.pk)))


def _action(request: HttpRequest, query_id: int, what: str, act: Callable[[Query], Any]) -> Any:
    query = _visible(request, query_id, f"api query {what}")
    try:
        act(query)
    except PermissionDenied as exc:
        return Status(403, {"detail": str(exc)})
    except ValidationError as exc:
        return _invalid(exc, f"the query was not {what}")
    return Status(200, _detail(_queries().get(pk=query.pk)))


ACTION_RESPONSES: dict[int, Any] = {200: QueryDetailOut, 403: Error, 404: Error, 422: Invalid}


@router.post("/{query_id}/answer", response=ACTION_RESPONSES, summary="Answer a query (the case's centre)")
def post_answer(request: HttpRequest, query_id: int, payload: MessageIn) -> Any:
    return _action(request, query_id, "answered", lambda q: services.answer(q, payload.text, request.user))


@router.post("/{query_id}/reply", response=ACTION_RESPONSES, summary="Send a query back to the centre (coordinators)")
def post_reply(request: HttpRequest, query_id: int, payload: MessageIn) -> Any:
    return _action(request, query_id, "sent back", lambda q: services.reply(q, payload.text, request.user))


@router.post("/{query_id}/close", response=ACTION_RESPONSES, summary="Close a query (coordinators)")
def post_close(request: HttpRequest, query_id: int, payload: CloseIn) -> Any:
    return _action(request, query_id, "closed", lambda q: services.close(q, request.user, payload.text))
