"""The list of consultation requests a user may see (see partner/lists)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_safe

from partner.accounts.security import is_coordinator
from partner.cases.lists import may_export_rows
from partner.lists.views import ListSpec, render_list

from . import services
from .filtersets import ConsultationFilterSet
from .tables import ConsultationTable

CONSULTATIONS = ListSpec(
    filterset=ConsultationFilterSet,
    table=ConsultationTable,
    title=gettext_lazy("Expert consultations"),
    count=lambda n: ngettext("%(n)s consultation", "%(n)s consultations", n) % {"n": n},
    name="consultations",
    # Experts read the requests assigned to them, never a download of them: centres and coordinators do.
    may_export=lambda user: may_export_rows(user) and not services.is_expert(user),
    case_of=lambda consultation: consultation.case_id,
    default_sort="-submitted_at",
    template="consult/consultation_list.html",
)


@login_required
@require_safe
def consultation_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    rows = services.visible(user).select_related("case__entity", "case__centre__country", "requested_by")
    context = {
        "may_request": user.memberships.filter(role__in=services.CENTRE_ROLES).exists(),
        "may_see_dashboard": is_coordinator(user),
    }
    return render_list(request, CONSULTATIONS, rows, context=context)
