"""Inputs shared by the API's routers, bounded by what the databases store: ids, pagination, no NUL character."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Field, Schema
from ninja.conf import settings
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

#: The answer to such a request, which every operation documents.
NUL_RESPONSE = {
    "description": "Bad Request: " + NUL_REFUSED,
    "content": {
        "application/json": {
            "schema": {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
        }
    },
}


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(v) for v in value)
    return False


def refuse_nul(run: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer 400 to a request with a NUL character in its path, query or JSON body, before anything reads it."""

    @wraps(run)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        body: Any = None
        if b"\\u0000" in request.body:  # else the body has none, or is no JSON and ninja answers for it
            with contextlib.suppress(ValueError):
                body = json.loads(request.body)
        if _holds_nul([list(request.GET.lists()), list(kwargs.values()), body]):
            return JsonResponse({"detail": NUL_REFUSED}, status=400)
        return run(request, *args, **kwargs)

    return checked
