"""The filters of the linkage queue, read from the query string (see partner/lists)."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from partner.accounts.models import Country
from partner.cases.models import TumourCase
from partner.lists.filtersets import entity_choices

from .models import CandidatePair, Decision

PENDING = "pending"
STATUS_CHOICES = [(PENDING, _("to review"))] + [(d.value, d.label) for d in Decision if d.value]


class PairFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=STATUS_CHOICES, empty_label=_("all pairs"), method="_status"
    )
    entity = django_filters.ChoiceFilter(label=_("Entity"), empty_label=_("all entities"), method="_entity")
    country = django_filters.ModelChoiceFilter(
        label=_("Country"),
        to_field_name="code",
        queryset=Country.objects.order_by("code"),
        empty_label=_("all countries"),
        method="_country",
    )
    birth_year = django_filters.NumberFilter(
        label=_("Year of birth"), method="_birth_year", widget=forms.NumberInput(attrs={"min": 1900, "max": 2100})
    )
    similarity_min = django_filters.NumberFilter(
        label=_("Similarity from"),
        field_name="similarity",
        lookup_expr="gte",
        widget=forms.NumberInput(attrs={"min": 0, "max": 1, "step": 0.01}),
    )
    similarity_max = django_filters.NumberFilter(
        label=_("Similarity up to"),
        field_name="similarity",
        lookup_expr="lte",
        widget=forms.NumberInput(attrs={"min": 0, "max": 1, "step": 0.01}),
    )

    class Meta:
        model = CandidatePair
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters["entity"].extra["choices"] = entity_choices()
        self.form.fields["country"].label_from_instance = lambda c: f"{c.code} · {c.local_name}"  # type: ignore[attr-defined]

    def _status(self, queryset: Any, name: str, value: str) -> Any:
        return queryset.filter(decision="" if value == PENDING else value)

    def _entity(self, queryset: Any, name: str, value: str) -> Any:
        patients = TumourCase.objects.filter(entity__code=value).values("patient_id")
        return queryset.filter(Q(left__in=patients) | Q(right__in=patients))

    def _country(self, queryset: Any, name: str, value: Any) -> Any:
        return queryset.filter(Q(left__country=value) | Q(right__country=value))

    def _birth_year(self, queryset: Any, name: str, value: Any) -> Any:
        year = int(value)
        return queryset.filter(Q(left__date_of_birth__year=year) | Q(right__date_of_birth__year=year))
