"""The filters of the consultation list, read from the query string (see partner/lists)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from partner.lists.filtersets import SearchFilterSet

from .models import Assignment, Consultation, ConsultationStatus, Panel, Urgency


class ConsultationFilterSet(SearchFilterSet):
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=ConsultationStatus.choices, empty_label=_("all statuses")
    )
    urgency = django_filters.ChoiceFilter(label=_("Urgency"), choices=Urgency.choices, empty_label=_("any"))
    panel = django_filters.ChoiceFilter(label=_("Panel"), choices=Panel.choices, empty_label=_("all panels"))
    unassigned = django_filters.ChoiceFilter(
        label=_("Experts"), choices=[("1", _("none assigned yet"))], empty_label=_("any"), method="_unassigned"
    )
    awaiting = django_filters.ChoiceFilter(
        label=_("Waiting for"), choices=[("me", _("my draft or vote"))], empty_label=_("anyone"), method="_awaiting"
    )

    class Meta:
        model = Consultation
        fields: list[str] = []

    def search(self, queryset: Any, value: str) -> Any:
        """A consultation or case number, or words of the question."""
        text = value.lstrip("#").strip()
        found = Q(question__icontains=value)
        if text.isdigit():
            found |= Q(pk=int(text)) | Q(case_id=int(text))
        return queryset.filter(found)

    def _unassigned(self, queryset: Any, name: str, value: str) -> Any:
        if value != "1":
            return queryset
        return queryset.filter(status=ConsultationStatus.SUBMITTED).exclude(
            pk__in=Assignment.objects.values("consultation_id")
        )

    def _awaiting(self, queryset: Any, name: str, value: str) -> Any:
        user = getattr(self.request, "user", None)
        if value != "me" or user is None:
            return queryset
        waiting = Assignment.objects.filter(expert_id=user.pk, vote="").values("consultation_id")
        return queryset.filter(status=ConsultationStatus.ASSIGNED, pk__in=waiting)
