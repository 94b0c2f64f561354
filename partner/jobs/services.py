"""Starting a job, and running a stopped one again."""

from __future__ import annotations

import shutil
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from partner.lib.language import request_language

from . import registry
from .context import read_progress
from .models import Job
from .tasks import run_job


def start(kind: str, *, user: Any, title: str, params: dict[str, Any] | None = None, language: str = "") -> Job:
    """A job of `kind` for `user`, queued for the worker. The page to send the user to is job_url(job)."""
    registry.kind(kind)  # an unknown kind fails here, in the request, not in the worker
    job = Job.objects.create(
        kind=kind, title=title, user=user, params=params or {}, language=language or translation.get_language() or "en"
    )
    _enqueue(job)
    return job


def start_from(request: Any, kind: str, title: str, params: dict[str, Any] | None = None) -> HttpResponse:
    """Start a job for the person asking, in the page's language, and send them to its page."""
    job = start(kind, user=request.user, title=title, params=params, language=request_language(request))
    return redirect("jobs:job", pk=job.pk)


def run_again(job: Job, *, user: Any) -> Job:
    """Queue a job whose worker stopped half-way (nothing of it was written) or that failed."""
    if job.user_id != user.pk:
        raise PermissionDenied(_("Only the person who started this work may run it again."))
    stalled = job.stalled(read_progress(job).get("at"))
    if not (stalled or (job.state == Job.State.FAILED and job.result.get("retry"))):
        raise PermissionDenied(_("This work is not stopped: it need not be run again."))
    Job.objects.filter(pk=job.pk).update(state=Job.State.QUEUED, started=None, finished=None, error="")
    job.refresh_from_db()
    _enqueue(job)
    return job


#: A job's file (a PDF, an extract of pseudonymised rows) is removed this long after the job ended.
KEEP_OUTPUT = timedelta(days=1)


def sweep_outputs() -> int:
    """Remove the files of jobs that ended more than KEEP_OUTPUT ago (`partner clearimports`, every ten
    minutes); how many were removed. The job's page then says its file is no longer kept."""
    removed = 0
    ended = Job.objects.filter(finished__lt=timezone.now() - KEEP_OUTPUT).exclude(output="")
    for job in ended:
        shutil.rmtree(job.folder, ignore_errors=True)
        Job.objects.filter(pk=job.pk).update(output="")
        removed += 1
    return removed


def _enqueue(job: Job) -> None:
    # The database queue writes its row in this transaction, so the worker sees the job and its task
    # together (and the immediate one, of the tests, runs it here); a queue on another server must not
    # hear of the job before the job's row is committed.
    from django_tasks.backends.immediate import ImmediateBackend
    from django_tasks_db import DatabaseBackend

    here = isinstance(run_job.get_backend(), DatabaseBackend | ImmediateBackend)
    if here or not transaction.get_connection().in_atomic_block:
        run_job.enqueue(str(job.pk))
    else:
        transaction.on_commit(lambda: run_job.enqueue(str(job.pk)))
