"""Confirming a finding, and the list of findings in the user's scope."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from partner.cases.models import TumourCase
from partner.dictionary.loader import get_dictionary

from .models import Finding, FindingStatus
from .presentation import shown
from .rules.base import SEVERITIES
from .services import confirm


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


@login_required
def findings(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", FindingStatus.OPEN)
    severity = request.GET.get("severity", "")
    rule = request.GET.get("rule", "").strip()
    rows = Finding.objects.filter(case__in=TumourCase.objects.restrict(request.user)).select_related(
        "case__centre", "confirmed_by"
    )
    if status in FindingStatus.values:
        rows = rows.filter(status=status)
    if severity in SEVERITIES:
        rows = rows.filter(severity=severity)
    if rule:
        rows = rows.filter(rule=rule)
    page = Paginator(rows.order_by("case_id", "field", "row"), 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "items": shown(page.object_list, get_dictionary()),
        "status": status,
        "severity": severity,
        "rule": rule,
        "statuses": FindingStatus.choices,
        "severities": list(SEVERITIES.items()),
    }
    return render(request, "quality/findings.html", context)
