"""Confirming a finding, and the list of findings in the user's scope (see partner/lists)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from partner.accounts.security import is_coordinator
from partner.cases.lists import may_export_rows
from partner.cases.models import TumourCase
from partner.lists.views import ListSpec, render_list

from .filtersets import FindingFilterSet
from .models import Finding, FindingStatus
from .services import confirm
from .tables import FindingTable


@login_required
@require_POST
def confirm_finding(request: HttpRequest, pk: int) -> HttpResponse:
    finding = Finding.objects.filter(pk=pk, case__in=TumourCase.objects.restrict(request.user)).first()
    if finding is None:
        raise Http404
    try:
        confirm(finding, request.user, request.POST.get("reason", ""))
    except PermissionDenied:
        raise Http404 from None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Confirmed: this finding will not be raised again for these values."))
    return redirect(f"{reverse('cases:detail', args=[finding.case_id])}#quality-heading")


FINDINGS = ListSpec(
    filterset=FindingFilterSet,
    table=FindingTable,
    title=gettext_lazy("Quality findings"),
    count=lambda n: ngettext("%(n)s finding", "%(n)s findings", n) % {"n": n},
    name="findings",
    may_export=may_export_rows,
    case_of=lambda finding: finding.case_id,
    default_sort="case",
    defaults={"status": FindingStatus.OPEN},
    template="quality/findings.html",
)


@login_required
def findings(request: HttpRequest) -> HttpResponse:
    rows = Finding.objects.filter(case__in=TumourCase.objects.restrict(request.user)).select_related("case__centre")
    may_raise = is_coordinator(request.user)
    return render_list(request, FINDINGS, rows, table_kwargs={"may_raise": may_raise})
