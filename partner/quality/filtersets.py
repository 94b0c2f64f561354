"""The filters of the findings and queries lists, read from the query string (see partner/lists)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partner.lists.filtersets import PlacesFilterSet, entity_choices

from . import queries
from .models import Finding, FindingStatus, Query, QueryStatus
from .rules.base import SEVERITIES


class ScopedPlaces(PlacesFilterSet):
    """The places and the case of rows that belong to a case."""

    case_path = "case__"

    def _case(self, value: str) -> Q:
        text = value.lstrip("#").strip()
        found = Q(case__external_id__iexact=value)
        if text.isdigit():
            found |= Q(case_id=int(text))
        if len(text) >= 4:
            found |= Q(case__patient__pseudonym__istartswith=text)
        return found


class FindingFilterSet(ScopedPlaces):
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=FindingStatus.choices, empty_label=_("all statuses")
    )
    severity = django_filters.ChoiceFilter(label=_("Severity"), choices=list(SEVERITIES.items()), empty_label=_("all"))
    rule = django_filters.ChoiceFilter(label=_("Rule"), empty_label=_("all rules"))
    entity = django_filters.ChoiceFilter(
        label=_("Entity"), field_name="case__entity__code", empty_label=_("all entities")
    )

    class Meta:
        model = Finding
        fields: list[str] = []

    def narrow(self) -> None:
        rules = self.queryset.order_by("rule").values_list("rule", flat=True).distinct()
        self.filters["rule"].extra["choices"] = [(r, r) for r in rules]
        self.filters["entity"].extra["choices"] = entity_choices()

    def search(self, queryset: Any, value: str) -> Any:
        """A case (id, identifier at the source, start of the pseudonym), a rule or a field."""
        return queryset.filter(self._case(value) | Q(rule__icontains=value) | Q(field__icontains=value))


class QueryFilterSet(ScopedPlaces):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=QueryStatus.choices, empty_label=_("all statuses"))
    overdue = django_filters.ChoiceFilter(
        label=_("Overdue"), choices=[("1", _("overdue only"))], empty_label=_("any"), method="_overdue"
    )
    mine = django_filters.ChoiceFilter(
        label=_("Raised by"), choices=[("1", _("me"))], empty_label=_("anyone"), method="_mine"
    )

    class Meta:
        model = Query
        fields: list[str] = []

    def search(self, queryset: Any, value: str) -> Any:
        """A query (#id), a case (id, identifier at the source, start of the pseudonym), a field or the question."""
        found = self._case(value) | Q(field__icontains=value) | Q(question__icontains=value)
        text = value.lstrip("#").strip()
        if text.isdigit():
            found |= Q(pk=int(text))
        return queryset.filter(found)

    def _mine(self, queryset: Any, name: str, value: str) -> Any:
        user = getattr(self.request, "user", None)
        return queryset.filter(raised_by_id=user.pk) if value == "1" and user is not None else queryset

    def _overdue(self, queryset: Any, name: str, value: str) -> Any:
        return queries.overdue(queryset, timezone.localdate()) if value == "1" else queryset
