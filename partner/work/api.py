"""REST API of My work (mounted at /api/work): what waits for the user, as the page shows it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema

from partner.accounts.auth import API_AUTH
from partner.lib.language import request_language

from .worklist import as_data, waiting, work_for

router = Router(tags=["work"], auth=API_AUTH)


class WorkRow(Schema):
    label: str
    url: str
    detail: str
    new: bool


class WorkItem(Schema):
    key: str
    label: str
    count: int
    url: str
    rows: list[WorkRow]


class WorkOut(Schema):
    waiting: int
    items: list[WorkItem]


@router.get(
    "",
    response=WorkOut,
    summary="My work: what waits for you, per role, with counts over your scope and links to the lists",
)
def my_work(request: HttpRequest) -> dict[str, Any]:
    items = work_for(request.user, request_language(request))
    return {"waiting": waiting(items), "items": as_data(items)}
