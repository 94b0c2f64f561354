"""A data request's extract, built by the worker and handed to its researcher from the job's page."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from partner.cases.models import AccessLog
from partner.jobs.context import JobContext
from partner.jobs.models import Job
from partner.jobs.registry import JobFailed, register

from . import services
from .models import DataRequest


def extract(job: Job, context: JobContext) -> dict[str, Any]:
    context.stage(_("Writing the extract"))
    found = DataRequest.objects.get(pk=job.params["request"])
    try:
        built = services.download(found, user=job.user, channel=AccessLog.Channel.WEB)
    except services.NotNow as exc:
        raise JobFailed(str(exc)) from None
    context.save_output(built.content, built.filename, "application/zip")
    return {}


register("extract", extract)
