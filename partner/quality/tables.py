"""The columns of the findings and queries lists: sortable, linked, and the same values in their downloads."""

from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from partner.dictionary.loader import get_dictionary
from partner.lists.views import ListTable

from . import queries
from .models import Finding, FindingStatus, Query, QueryStatus
from .registry import rule_by_code
from .rules.base import SEVERITIES, field_label


def _case_link(case_id: int, anchor: str = "") -> Any:
    return format_html('<a href="{}{}">#{}</a>', reverse("cases:detail", args=[case_id]), anchor, case_id)


def _date(value: Any) -> str:
    return formats.date_format(
        timezone.localtime(value) if hasattr(value, "tzinfo") and value.tzinfo else value, "SHORT_DATE_FORMAT"
    )


class FindingTable(ListTable):
    case = tables.Column(verbose_name=_("Case"), accessor="case_id", order_by=("case_id", "field", "row"))
    centre = tables.Column(
        verbose_name=_("Centre"), accessor="case__centre__code", order_by=("case__centre__code", "case_id")
    )
    severity = tables.Column(verbose_name=_("Severity"), order_by=("severity", "case_id"))
    field = tables.Column(verbose_name=_("Field"), order_by=("field", "row", "case_id"))
    message = tables.Column(verbose_name=_("Finding"), accessor="rule", order_by=("rule", "case_id"))
    values = tables.Column(verbose_name=_("Values"), orderable=False)
    status = tables.Column(verbose_name=_("Status"), order_by=("status", "case_id"))
    found = tables.Column(verbose_name=_("Found"), order_by=("found", "id"))
    action = tables.Column(verbose_name=_("Action"), accessor="pk", orderable=False, exclude_from_export=True)

    class Meta(ListTable.Meta):
        model = Finding
        fields = ("case", "centre", "severity", "field", "message", "values", "status", "found", "action")
        empty_text = _("No finding here.")

    def __init__(self, *args: Any, may_raise: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.dictionary = get_dictionary()
        self.rules = rule_by_code(self.dictionary)
        if not may_raise:
            self.columns.hide("action")

    def render_case(self, value: int) -> Any:
        return _case_link(value, "#quality-heading")

    def render_severity(self, record: Finding) -> Any:
        return format_html(
            '<span class="tag severity-{}">{}</span>', record.severity, SEVERITIES.get(record.severity, record.severity)
        )

    def value_severity(self, value: str) -> str:
        return value

    def render_field(self, record: Finding) -> str:
        return field_label(record.field, self.dictionary) + (f" #{record.row}" if record.row else "")

    def value_field(self, record: Finding) -> str:
        return record.field + (f"#{record.row}" if record.row else "")

    def render_message(self, record: Finding) -> Any:
        rule = self.rules.get(record.rule)
        return format_html(
            '{} <span class="muted small">{}</span>', rule.text(self.dictionary) if rule else record.rule, record.rule
        )

    def value_message(self, record: Finding) -> str:
        return record.rule

    def render_values(self, value: str) -> Any:
        return format_html('<code class="small">{}</code>', value)

    def render_status(self, record: Finding) -> str:
        return record.get_status_display()

    def value_status(self, value: str) -> str:
        return value

    def render_found(self, value: Any) -> str:
        return _date(value)

    def value_found(self, value: Any) -> str:
        return timezone.localtime(value).date().isoformat()

    def render_action(self, record: Finding) -> Any:
        if record.status != FindingStatus.OPEN:
            return ""
        return format_html(
            '<a href="{}?finding={}">{}</a>', reverse("quality:query_new"), record.pk, _("Raise a query")
        )


class QueryTable(ListTable):
    id = tables.Column(verbose_name=_("Query"), order_by=("id",))
    case = tables.Column(verbose_name=_("Case"), accessor="case_id", order_by=("case_id", "id"))
    centre = tables.Column(
        verbose_name=_("Centre"), accessor="case__centre__code", order_by=("case__centre__code", "id")
    )
    field = tables.Column(verbose_name=_("Field"), order_by=("field", "id"))
    question = tables.Column(verbose_name=_("Question"), orderable=False)
    status = tables.Column(verbose_name=_("Status"), order_by=("status", "id"))
    raised_at = tables.Column(verbose_name=_("Raised"), order_by=("raised_at", "id"))
    due = tables.Column(verbose_name=_("Due"), order_by=("due", "id"))
    last = tables.Column(verbose_name=_("Last message"), accessor="last_written", order_by=("last_written", "id"))

    class Meta(ListTable.Meta):
        model = Query
        fields = ("id", "case", "centre", "field", "question", "status", "raised_at", "due", "last")
        empty_text = _("No query here.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.language = get_language() or "en"
        self.today = timezone.localdate()

    def render_id(self, value: int) -> Any:
        return format_html('<a href="{}">#{}</a>', reverse("quality:query", args=[value]), value)

    def render_case(self, record: Query) -> Any:
        return format_html(
            '{} <span class="muted small code">{}</span>', _case_link(record.case_id), record.case.patient
        )

    def value_case(self, value: int) -> int:
        return value

    def render_field(self, record: Query) -> str:
        return queries.field_label(record.field, self.language) + (f" #{record.row}" if record.row else "")

    def value_field(self, record: Query) -> str:
        return record.field + (f"#{record.row}" if record.row else "")

    def render_question(self, value: str) -> str:
        return value if len(value) <= 100 else value[:99] + "…"

    def render_status(self, record: Query) -> Any:
        return format_html(
            '<span class="tag{}">{}</span>',
            " no" if record.status == QueryStatus.CLOSED else "",
            record.get_status_display(),
        )

    def value_status(self, value: str) -> str:
        return value

    def render_raised_at(self, value: Any) -> str:
        return _date(value)

    def value_raised_at(self, value: Any) -> str:
        return timezone.localtime(value).date().isoformat()

    def render_due(self, record: Query) -> Any:
        day = _date(record.due)
        if record.status == QueryStatus.OPEN and record.due < self.today:
            return format_html('<span class="tag req">{} · {}</span>', day, _("overdue"))
        return day

    def value_due(self, value: Any) -> str:
        return value.isoformat()

    def render_last(self, record: Any) -> Any:
        text = record.last_text or ""
        return format_html(
            '<span class="muted small">{} · {}</span><div>{}</div>',
            _date(record.last_written),
            record.last_author,
            text if len(text) <= 60 else text[:59] + "…",
        )

    def value_last(self, record: Any) -> str:
        return timezone.localtime(record.last_written).date().isoformat() if record.last_written else ""
