"""The columns of the consultation list: sortable, linked, and the same values in its downloads."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from partner.lists.views import ListTable

from .models import Consultation, ConsultationStatus

OPEN = (ConsultationStatus.SUBMITTED, ConsultationStatus.ASSIGNED)


class ConsultationTable(ListTable):
    id = tables.Column(verbose_name=_("Request"), order_by=("id",))
    question = tables.Column(verbose_name=_("Question"), orderable=False)
    entity = tables.Column(verbose_name=_("Tumour"), accessor="case__entity", order_by=("case__entity__code", "id"))
    panel = tables.Column(verbose_name=_("Panel"), order_by=("panel", "id"))
    urgency = tables.Column(verbose_name=_("Urgency"), order_by=("urgency", "id"))
    status = tables.Column(verbose_name=_("Status"), order_by=("status", "id"))
    submitted_at = tables.Column(verbose_name=_("Submitted"), order_by=("submitted_at", "id"))
    due = tables.Column(verbose_name=_("Due"), order_by=("due", "id"))

    class Meta(ListTable.Meta):
        model = Consultation
        fields = ("id", "question", "entity", "panel", "urgency", "status", "submitted_at", "due")
        empty_text = _("No consultation request that you may see.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.now = timezone.now()

    def render_id(self, value: int) -> Any:
        link = reverse("consult:detail", args=[value])
        return format_html('<a class="nowrap" href="{}">{}</a>', link, _("Consultation #%(n)s") % {"n": value})

    def render_question(self, value: str) -> str:
        words = value.split()
        return " ".join(words[:14]) + (" …" if len(words) > 14 else "")

    def render_entity(self, value: Any) -> str:
        return value.name

    def value_entity(self, value: Any) -> str:
        return value.code if value else ""

    def render_status(self, record: Consultation) -> Any:
        late = record.status in OPEN and record.due < self.now
        overdue = format_html(' <span class="tag req">{}</span>', _("overdue")) if late else ""
        return format_html('<span class="tag">{}</span>{}', record.get_status_display(), overdue)

    def value_status(self, value: str) -> str:
        return value

    def value_panel(self, value: str) -> str:
        return value

    def value_urgency(self, value: str) -> str:
        return value

    def render_submitted_at(self, value: Any) -> str:
        return formats.date_format(timezone.localtime(value), "SHORT_DATE_FORMAT")

    def render_due(self, value: Any) -> str:
        return formats.date_format(timezone.localtime(value), "SHORT_DATE_FORMAT")

    def value_submitted_at(self, value: Any) -> str:
        return timezone.localtime(value).isoformat(timespec="minutes")

    def value_due(self, value: Any) -> str:
        return timezone.localtime(value).isoformat(timespec="minutes")
