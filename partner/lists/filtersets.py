"""The filters every list shares: the search box, the places of the user's scope, the entities."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from partner.accounts.models import Centre, Country
from partner.dictionary.loader import get_dictionary


def entity_choices() -> list[tuple[str, str]]:
    """The dictionary's entities, named in the page's language."""
    language = get_language() or "en"
    return [(e.code, e.names.get(language)) for e in get_dictionary().entities]


class SearchFilterSet(django_filters.FilterSet):
    """A FilterSet with the search box `q`; a subclass says what it searches in `search`."""

    q = django_filters.CharFilter(label=_("Search"), method="_search", widget=forms.TextInput(attrs={"type": "search"}))

    def _search(self, queryset: Any, name: str, value: str) -> Any:
        value = value.strip()
        return self.search(queryset, value) if value else queryset

    def search(self, queryset: Any, value: str) -> Any:
        raise NotImplementedError


class PlacesFilterSet(SearchFilterSet):
    """Centre and country filters offering only the places of the rows in the user's scope."""

    #: The path from a row to its case: "" for a list of cases, "case__" for rows that belong to one.
    case_path = ""

    centre = django_filters.ModelChoiceFilter(
        label=_("Centre"), to_field_name="code", queryset=Centre.objects.none(), empty_label=_("all centres")
    )
    country = django_filters.ModelChoiceFilter(
        label=_("Country"), to_field_name="code", queryset=Country.objects.none(), empty_label=_("all countries")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters["centre"].field_name = f"{self.case_path}centre"
        self.filters["country"].field_name = f"{self.case_path}centre__country"
        centres = Centre.objects.filter(pk__in=self.queryset.values(f"{self.case_path}centre_id")).order_by("code")
        self.filters["centre"].queryset = centres
        self.filters["country"].queryset = Country.objects.filter(centres__in=centres).distinct().order_by("code")
        self.narrow()  # before the form is built from the filters
        self.form.fields["centre"].label_from_instance = lambda c: f"{c.code} · {c.city}"  # type: ignore[attr-defined]
        self.form.fields["country"].label_from_instance = lambda c: f"{c.code} · {c.local_name}"  # type: ignore[attr-defined]

    def narrow(self) -> None:
        """Choices that depend on the rows in scope or the dictionary, set by a subclass."""
