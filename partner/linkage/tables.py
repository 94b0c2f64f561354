"""The columns of the linkage queue: what a reviewer needs to choose a pair, and nothing that names a child."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from partner.cases.models import Patient
from partner.lists.views import ListTable

from .models import CandidatePair


def _entities(patient: Patient) -> str:
    names = {c.entity.name if c.entity else str(_("not a VRT entity")) for c in patient.cases.all()}
    return ", ".join(sorted(names))


def _entity_codes(patient: Patient) -> str:
    return " ".join(sorted({c.entity.code for c in patient.cases.all() if c.entity}))


class PairTable(ListTable):
    similarity = tables.Column(
        verbose_name=_("Similarity"), order_by=("similarity", "id"), attrs={"td": {"class": "num"}}
    )
    entity = tables.Column(verbose_name=_("Entity"), accessor="pk", orderable=False)
    countries = tables.Column(verbose_name=_("Countries"), accessor="pk", orderable=False)
    born = tables.Column(
        verbose_name=_("Year of birth"), accessor="left__date_of_birth", order_by=("left__date_of_birth", "id")
    )
    patients = tables.Column(verbose_name=_("Pseudonyms"), accessor="pk", orderable=False)
    decision = tables.Column(verbose_name=_("Decision"), order_by=("decision", "id"))
    found = tables.Column(verbose_name=_("Found"), order_by=("found", "id"))

    class Meta(ListTable.Meta):
        model = CandidatePair
        fields = ("similarity", "entity", "countries", "born", "patients", "decision", "found")
        empty_text = _("No pair here.")

    def render_similarity(self, record: CandidatePair) -> Any:
        # 0.930, or 0,930 where the decimal mark is a comma; rounded here, as number_format only cuts digits off
        shown = formats.number_format(round(record.similarity, 3), 3)
        link = format_html('<a href="{}">{}</a>', reverse("linkage:pair", args=[record.pk]), shown)
        if record.likely:
            return format_html('{} <span class="tag yes">{}</span>', link, _("very likely"))
        return link

    def value_similarity(self, value: float) -> str:
        return f"{value:.3f}"

    def render_entity(self, record: CandidatePair) -> Any:
        left, right = _entities(record.left), _entities(record.right)
        return left if left == right else format_html("{}<br>{}", left, right)

    def value_entity(self, record: CandidatePair) -> str:
        return f"{_entity_codes(record.left)} / {_entity_codes(record.right)}"

    def render_countries(self, record: CandidatePair) -> str:
        return f"{record.left.country.code} · {record.right.country.code}"

    def value_countries(self, record: CandidatePair) -> str:
        return f"{record.left.country.code} / {record.right.country.code}"

    def render_born(self, record: CandidatePair) -> str:
        left, right = record.left.date_of_birth.year, record.right.date_of_birth.year
        return str(left) if left == right else f"{left} · {right}"

    def value_born(self, record: CandidatePair) -> str:
        return f"{record.left.date_of_birth.year} / {record.right.date_of_birth.year}"

    def render_patients(self, record: CandidatePair) -> Any:
        return format_html("<code>{}</code> · <code>{}</code>", record.left, record.right)

    def value_patients(self, record: CandidatePair) -> str:
        return f"{record.left} / {record.right}"

    def render_decision(self, record: CandidatePair) -> Any:
        if record.decided_by:
            return format_html(
                '{} <span class="muted small">({})</span>', record.get_decision_display(), record.decided_by
            )
        return record.get_decision_display()

    def value_decision(self, record: CandidatePair) -> str:
        return record.decision or "pending"

    def render_found(self, value: Any) -> str:
        return formats.date_format(timezone.localtime(value), "SHORT_DATE_FORMAT")

    def value_found(self, value: Any) -> str:
        return timezone.localtime(value).date().isoformat()
