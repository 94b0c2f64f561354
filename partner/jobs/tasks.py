"""The one task of the queue: run a job by its id."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from . import registry
from .context import JobContext
from .models import Job

log = logging.getLogger("partner.jobs")


@task()
def run_job(job_id: str) -> str:
    """Run the job, once: a job already over (run by an earlier delivery of the task) is left alone."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.over:
            return "skipped"
        Job.objects.filter(pk=job.pk).update(
            state=Job.State.RUNNING, started=timezone.now(), attempts=F("attempts") + 1, error=""
        )
    job.refresh_from_db()
    with translation.override(job.language), JobContext(job) as context:
        try:
            result = registry.kind(job.kind).work(job, context)
        except registry.JobFailed as failed:
            return _finish(job, Job.State.FAILED, error=str(failed))
        except Exception:
            log.exception("job %s (%s) failed", job.pk, job.kind)
            return _finish(
                job, Job.State.FAILED, error=_("The work stopped on an unexpected error; nothing was written.")
            )
    return _finish(job, Job.State.DONE, result=result)


def _finish(job: Job, state: str, *, result: dict | None = None, error: str = "") -> str:
    Job.objects.filter(pk=job.pk).update(
        state=state,
        finished=timezone.now(),
        result=result or {},
        error=error,
        output=job.output,
        output_name=job.output_name,
        output_type=job.output_type,
    )
    return state
