"""The quality rules over every case of a coordinator's scope, run by the worker (`partner qc run` from
the web: the same rules and the same findings)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from partner.accounts.security import is_coordinator
from partner.cases.models import TumourCase
from partner.dictionary.loader import get_dictionary
from partner.jobs import services as jobs
from partner.jobs.context import JobContext
from partner.jobs.models import Job
from partner.jobs.registry import register

from .registry import registry_rules
from .services import check_cases


def run_rules(job: Job, context: JobContext) -> dict[str, Any]:
    d = get_dictionary()
    cases = TumourCase.objects.restrict(job.user)
    context.stage(_("Running the quality rules"), len(registry_rules(d)))
    run = check_cases(cases, user=job.user, progress=lambda rule: context.advance(), dictionary=d)
    message = ngettext(
        "%(cases)s case checked: %(opened)s findings opened, %(reopened)s opened again, %(resolved)s resolved.",
        "%(cases)s cases checked: %(opened)s findings opened, %(reopened)s opened again, %(resolved)s resolved.",
        run.cases,
    )
    counts = {"cases": run.cases, "opened": run.opened, "reopened": run.reopened, "resolved": run.resolved}
    return {"message": message % counts}


@login_required
@require_POST
def start_run(request: HttpRequest) -> HttpResponse:
    """A coordinator runs every rule over the cases of their scope (their country, or the registry)."""
    if not is_coordinator(request.user):
        raise PermissionDenied(_("Running the rules over the registry is for coordinators."))
    return jobs.start_from(request, "qc_run", _("Quality rules over every case you may see"))


register("qc_run", run_rules)
