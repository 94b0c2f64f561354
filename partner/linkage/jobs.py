"""Comparing the new encodings with the registry's, run by the worker (`partner link run` from the web)."""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from partner.accounts.security import is_european_coordinator
from partner.jobs import services as jobs
from partner.jobs.context import JobContext
from partner.jobs.models import Job
from partner.jobs.registry import register

from .services import link_run


def compare(job: Job, context: JobContext) -> dict[str, Any]:
    context.stage(_("Comparing the new encodings with the registry's"))
    run = link_run(workers=os.cpu_count() or 1)
    message = _("%(compared)s new encodings compared with %(against)s: %(new)s new candidate pairs.")
    return {"message": message % {"compared": run.compared, "against": run.against, "new": run.new_pairs}}


@login_required
@require_POST
def start_run(request: HttpRequest) -> HttpResponse:
    if not is_european_coordinator(request.user):
        raise PermissionDenied(_("The review of possible duplicates is for the European coordinator."))
    return jobs.start_from(request, "linkage_run", _("Comparison of the new encodings"))


register("linkage_run", compare)
