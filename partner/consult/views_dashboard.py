"""The consultation dashboard: for coordinators, over the requests of their scope."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from partner.accounts.security import is_coordinator
from partner.lib.language import request_language

from . import dashboard as numbers
from . import services


def _rows(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The table's rows for the page, a median or share with nothing to count (NaN) as None: shown as a dash."""
    return [
        {str(key): None if isinstance(value, float) and math.isnan(value) else value for key, value in row.items()}
        for row in table.to_dict("records")
    ]


@login_required
@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    if not is_coordinator(request.user):
        raise PermissionDenied("the consultation dashboard is for coordinators")
    by = "country" if request.GET.get("by") == "country" else "entity"
    language = request_language(request)
    data = numbers.frame(services.visible(request.user), language)
    context = {
        "by": by,
        "requests": len(data),
        "turnaround": _rows(numbers.turnaround(data, by)),
        "adherence": _rows(numbers.adherence(data)),
    }
    return render(request, "consult/dashboard.html", context)
