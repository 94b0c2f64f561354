"""The consultation dashboard: for coordinators, over the requests of their scope."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from partner.accounts.security import is_coordinator

from . import dashboard as numbers
from . import services


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    if not is_coordinator(request.user):
        raise PermissionDenied("the consultation dashboard is for coordinators")
    by = "country" if request.GET.get("by") == "country" else "entity"
    language = (getattr(request, "LANGUAGE_CODE", None) or "en")[:2]
    data = numbers.frame(services.visible(request.user), language)
    context = {
        "by": by,
        "requests": len(data),
        "turnaround": numbers.turnaround(data, by).to_dict("records"),
        "adherence": numbers.adherence(data).to_dict("records"),
    }
    return render(request, "consult/dashboard.html", context)
