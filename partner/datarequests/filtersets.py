"""The filters of the data request list, read from the query string (see partner/lists)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from partner.lists.filtersets import SearchFilterSet

from .models import DataRequest, RequestStatus


class RequestFilterSet(SearchFilterSet):
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=RequestStatus.choices, empty_label=_("all statuses")
    )
    mine = django_filters.ChoiceFilter(
        label=_("Requested by"), choices=[("1", _("me"))], empty_label=_("anyone"), method="_mine"
    )

    class Meta:
        model = DataRequest
        fields: list[str] = []

    def search(self, queryset: Any, value: str) -> Any:
        """A request number, words of the title or purpose, or the researcher's user name."""
        text = value.lstrip("#").strip()
        found = Q(title__icontains=value) | Q(purpose__icontains=value) | Q(requester__username__iexact=value)
        if text.isdigit():
            found |= Q(pk=int(text))
        return queryset.filter(found)

    def _mine(self, queryset: Any, name: str, value: str) -> Any:
        user = getattr(self.request, "user", None)
        return queryset.filter(requester_id=user.pk) if value == "1" and user is not None else queryset
