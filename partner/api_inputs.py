"""Inputs shared by the API's routers, bounded by what the databases store: ids, pagination, no NUL character;
and the answers every operation may give to a request it cannot take, whatever the router."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Field, Schema
from ninja.conf import settings
from ninja.errors import ValidationError
from ninja.pagination import LimitOffsetPagination

#: SQLite and PostgreSQL store signed 64-bit integers; a larger one in a query is a server error.
LARGEST = 2**63 - 1

#: The id of a row, as a filter or a list of them (an exact lookup by primary key needs no bound).
RowId = Annotated[int, Field(ge=1, le=LARGEST)]


class Pagination(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(settings.PAGINATION_PER_PAGE, ge=1, le=LARGEST)
        offset: int = Field(0, ge=0, le=LARGEST)


#: PostgreSQL stores no NUL character, in text or JSON: text holding one is refused, as Django's forms refuse it.
NUL_REFUSED = "text may not contain the NUL character (U+0000)"

#: A body larger than DATA_UPLOAD_MAX_MEMORY_SIZE (PARTNER_MAX_REQUEST_MB).
TOO_LARGE = "the request body is larger than this registry accepts"

#: What a request validation error (422) says before naming each problem.
REQUEST_INVALID = "the request does not match the API's description: nothing was done"


class Refusal(Schema):
    """A request refused before its operation ran: not signed in, too many unknown tokens, not JSON..."""

    detail: str


class RequestProblem(Schema):
    """One part of a request that does not match the description: where (path, query, body...), which field
    (dotted, empty for the whole of it), and why. The value itself is never repeated."""

    location: str
    field: str
    message: str


class RequestInvalid(Schema):
    """A request whose parameters or body do not match the operation's description (422)."""

    detail: str
    errors: list[RequestProblem]


def request_problems(error: ValidationError) -> list[dict[str, str]]:
    """ninja's validation errors as RequestProblem: `loc` is (location, field, subfield...)."""
    problems = []
    for found in error.errors:
        location, *field = found.get("loc") or ("request",)
        problems.append(
            {"location": str(location), "field": ".".join(str(part) for part in field), "message": str(found["msg"])}
        )
    return problems


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(v) for v in value)
    return False


def refuse_nul(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer 400 to a request with a NUL character in its path, query or JSON body, before anything reads it;
    413 to a body larger than the registry accepts (Django would answer with an HTML page)."""

    @wraps(run)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            raw = request.body
        except RequestDataTooBig:
            return JsonResponse({"detail": TOO_LARGE}, status=413)
        body: Any = None
        if b"\\u0000" in raw:  # else the body has none, or is no JSON and ninja answers for it
            with contextlib.suppress(ValueError):
                body = json.loads(raw)
        if _holds_nul([list(request.GET.lists()), list(kwargs.values()), body]):
            return JsonResponse({"detail": NUL_REFUSED}, status=400)
        return run(request, *args, **kwargs)

    return checked
