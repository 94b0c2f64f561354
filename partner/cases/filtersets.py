"""The filters of the case list, read from the query string (see partner/lists)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from partner.dictionary.loader import get_dictionary
from partner.lists.filtersets import PlacesFilterSet, entity_choices
from partner.widgets import DateBox

from .followup import followup_due
from .models import Status, TumourCase

DATE = DateBox()
OPEN_CHOICES = [("errors", _("open errors")), ("queries", _("open clarification queries"))]


class CaseFilterSet(PlacesFilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=Status.choices, empty_label=_("all statuses"))
    entity = django_filters.ChoiceFilter(label=_("Entity"), field_name="entity__code", empty_label=_("all entities"))
    diagnosed_after = django_filters.DateFilter(
        label=_("Diagnosed on or after"), field_name="diagnosis_date", lookup_expr="gte", widget=DATE
    )
    diagnosed_before = django_filters.DateFilter(
        label=_("Diagnosed on or before"), field_name="diagnosis_date", lookup_expr="lte", widget=DATE
    )
    followup_due = django_filters.ChoiceFilter(
        label=_("Follow-up"),
        choices=[("1", _("due: no contact for 12 months"))],
        empty_label=_("any"),
        method="_followup_due",
    )
    open = django_filters.ChoiceFilter(
        label=_("Open issues"), choices=OPEN_CHOICES, empty_label=_("any"), method="_open"
    )

    class Meta:
        model = TumourCase
        fields: list[str] = []

    def narrow(self) -> None:
        self.filters["entity"].extra["choices"] = entity_choices()

    def search(self, queryset: Any, value: str) -> Any:
        """A case id (#12 or 12), an identifier at the source, the start of a pseudonym, an entity's code or name."""
        text = value.lstrip("#").strip()
        found = Q(external_id__iexact=value) | Q(entity__code__iexact=value)
        if text.isdigit():
            found |= Q(pk=int(text))
        if len(text) >= 4:
            found |= Q(patient__pseudonym__istartswith=text)
        lowered = value.lower()
        named = [
            e.code
            for e in get_dictionary().entities
            if any(lowered in n.lower() for n in e.names.model_dump().values())
        ]
        if named:
            found |= Q(entity__code__in=named)
        return queryset.filter(found)

    def _followup_due(self, queryset: Any, name: str, value: str) -> Any:
        return queryset.filter(pk__in=followup_due(queryset)) if value == "1" else queryset

    def _open(self, queryset: Any, name: str, value: str) -> Any:
        # Through the relations the quality app adds to a case: the case app imports nothing of it.
        if value == "errors":
            wanted = TumourCase.objects.filter(findings__status="open", findings__severity="error")
        elif value == "queries":
            wanted = TumourCase.objects.filter(queries__status="open")
        else:
            return queryset
        return queryset.filter(pk__in=wanted.values("pk"))
