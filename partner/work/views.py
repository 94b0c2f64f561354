"""My work: the page a signed-in user lands on, listing what waits for them."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from partner.lib.language import request_language

from .worklist import waiting, work_for


@login_required
@require_safe
def my_work(request: HttpRequest) -> HttpResponse:
    items = work_for(request.user, request_language(request))
    return render(request, "work/index.html", {"items": items, "waiting": waiting(items)})
