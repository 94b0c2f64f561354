"""The case list: search, filters, sortable columns, pages and downloads over the user's scope."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from partner.accounts.models import CENTRE_ROLES, COUNTRY_ROLES, REGISTRY_ROLES
from partner.accounts.security import is_coordinator, is_european_coordinator
from partner.lists.views import ListSpec, render_list

from .filtersets import CaseFilterSet
from .models import TumourCase
from .tables import CaseTable

#: Roles whose scope holds case rows, which they may download over that scope. Researchers and experts
#: have none: a researcher's rows come only from an approved data request.
EXPORT_ROLES = CENTRE_ROLES | COUNTRY_ROLES | REGISTRY_ROLES


def may_export_rows(user: Any) -> bool:
    """Centre staff and coordinators download the rows of their own scope; nobody else."""
    if not user.is_authenticated or not user.is_active:
        return False
    return bool(user.is_superuser or user.memberships.filter(role__in=EXPORT_ROLES).exists())


CASES = ListSpec(
    filterset=CaseFilterSet,
    table=CaseTable,
    title=_("Cases"),
    count=lambda n: ngettext("%(n)s case", "%(n)s cases", n) % {"n": n},
    name="cases",
    may_export=may_export_rows,
    case_of=lambda case: case.pk,
    default_sort="-diagnosis_date",
    template="cases/list.html",
)


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    cases = TumourCase.objects.restrict(request.user).select_related("patient", "centre", "entity")
    context = {
        "can_register": request.user.memberships.filter(role__in=CENTRE_ROLES).exists(),  # type: ignore[union-attr]
        "is_coordinator": is_coordinator(request.user),
        "is_reviewer": is_european_coordinator(request.user),
    }
    return render_list(request, CASES, cases, context=context)
