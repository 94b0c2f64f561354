"""The columns of the case list: sortable, linked, and the same values in its downloads."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils import formats
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from partner.lists.views import ListTable

from .models import TumourCase


class CaseTable(ListTable):
    id = tables.Column(verbose_name=_("Case"), order_by=("id",))
    external_id = tables.Column(verbose_name=_("Identifier at the source"), default="")
    pseudonym = tables.Column(verbose_name=_("Pseudonym"), accessor="patient", orderable=False)
    entity = tables.Column(verbose_name=_("Entity"), order_by=("entity__code", "id"), default="")
    codes = tables.Column(verbose_name="ICD-O-3", accessor="morphology", order_by=("morphology", "topography", "id"))
    diagnosis_date = tables.Column(verbose_name=_("Date of diagnosis"), order_by=("diagnosis_date", "id"))
    centre = tables.Column(verbose_name=_("Centre"), order_by=("centre__code", "id"), attrs={"td": {"class": "nowrap"}})
    status = tables.Column(verbose_name=_("Status"), order_by=("status", "id"))

    class Meta(ListTable.Meta):
        model = TumourCase
        fields = ("id", "external_id", "pseudonym", "entity", "codes", "diagnosis_date", "centre", "status")
        empty_text = _("No case matches.")

    def render_id(self, record: TumourCase) -> Any:
        return format_html('<a href="{}">#{}</a>', reverse("cases:detail", args=[record.pk]), record.pk)

    def value_id(self, record: TumourCase) -> int:
        return record.pk

    def render_pseudonym(self, value: Any) -> Any:
        return format_html('<span class="code small">{}</span>', value)

    def render_entity(self, record: TumourCase) -> str:
        return record.entity.name if record.entity else str(_("not a VRT entity"))

    def value_entity(self, record: TumourCase) -> str:
        return record.entity.code if record.entity else ""

    def render_codes(self, record: TumourCase) -> Any:
        return format_html('<span class="nowrap">{} {}</span>', record.morphology, record.topography)

    def value_codes(self, record: TumourCase) -> str:
        return f"{record.morphology} {record.topography}"

    def render_diagnosis_date(self, value: Any) -> str:
        return formats.date_format(value, "SHORT_DATE_FORMAT")

    def value_diagnosis_date(self, value: Any) -> str:
        return value.isoformat() if value else ""

    def render_centre(self, record: TumourCase) -> str:
        return record.centre.code

    def render_status(self, record: TumourCase) -> Any:
        return format_html('<span class="tag">{}</span>', record.get_status_display())

    def value_status(self, value: str) -> str:
        return value
