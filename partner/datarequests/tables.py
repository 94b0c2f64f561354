"""The columns of the data request list: sortable, linked, and the same values in its downloads."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from partner.lists.views import ListTable

from .models import DataRequest

TAGS = {"approved": " yes", "rejected": " req", "withdrawn": " no"}


def _day(value: Any) -> str:
    return formats.date_format(timezone.localtime(value), "SHORT_DATE_FORMAT") if value else ""


class RequestTable(ListTable):
    id = tables.Column(verbose_name=_("Request"), order_by=("id",))
    title = tables.Column(verbose_name=_("Title"), order_by=("title", "id"))
    requester = tables.Column(verbose_name=_("Researcher"), order_by=("requester__username", "id"))
    created = tables.Column(verbose_name=_("Submitted"), order_by=("created", "id"))
    variables = tables.Column(verbose_name=_("Variables"), orderable=False, attrs={"td": {"class": "num"}})
    status = tables.Column(verbose_name=_("Status"), order_by=("status", "id"))
    decided_at = tables.Column(verbose_name=_("Decided"), order_by=("decided_at", "id"), default="")

    class Meta(ListTable.Meta):
        model = DataRequest
        fields = ("id", "title", "requester", "created", "variables", "status", "decided_at")
        empty_text = _("No data request here.")

    def __init__(self, *args: Any, reviewer: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not reviewer:
            self.columns.hide("requester")

    def render_id(self, value: int) -> Any:
        return format_html('<a href="{}">#{}</a>', reverse("datarequests:detail", args=[value]), value)

    def render_variables(self, value: list[str]) -> int:
        return len(value)

    def value_variables(self, value: list[str]) -> int:
        return len(value)

    def render_status(self, record: DataRequest) -> Any:
        return format_html('<span class="tag{}">{}</span>', TAGS.get(record.status, ""), record.get_status_display())

    def value_status(self, value: str) -> str:
        return value

    def render_created(self, value: Any) -> str:
        return _day(value)

    def value_created(self, value: Any) -> str:
        return timezone.localtime(value).date().isoformat()

    def render_decided_at(self, record: DataRequest) -> Any:
        return format_html('{} <span class="muted small">{}</span>', _day(record.decided_at), record.decided_by or "")

    def value_decided_at(self, value: Any) -> str:
        return timezone.localtime(value).date().isoformat() if value else ""
