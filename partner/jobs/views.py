"""A job's page: its progress while the worker runs it (refreshed by htmx), then its result."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_POST

from . import registry, services
from .context import read_progress
from .models import Job


def _own(request: HttpRequest, pk: Any) -> Job:
    """The job, for the person who started it; anyone else is told there is none (404)."""
    job = get_object_or_404(Job, pk=pk)
    if job.user_id != request.user.pk:
        raise Http404
    return job


def job_context(job: Job) -> dict[str, Any]:
    progress = read_progress(job)
    done, total = progress.get("done", 0), progress.get("total")
    context: dict[str, Any] = {
        "job": job,
        "stage": progress.get("stage", ""),
        "done": done,
        "total": total,
        "percent": int(100 * done / total) if total else None,
        "stalled": job.stalled(progress.get("at")),
        "result": job.result,
    }
    if job.state == Job.State.DONE:
        context["result_template"] = registry.kind(job.kind).template
    return context


@login_required
def job_page(request: HttpRequest, pk: Any) -> HttpResponse:
    job = _own(request, pk)
    template = "jobs/_status.html" if request.headers.get("HX-Request") else "jobs/job.html"
    return render(request, template, job_context(job))


@login_required
def download(request: HttpRequest, pk: Any) -> HttpResponse:
    job = _own(request, pk)
    if job.state != Job.State.DONE or not job.output:
        raise Http404
    try:
        content = Path(job.output).read_bytes()  # a PDF or an extract: megabytes at most
    except FileNotFoundError:
        raise Http404 from None
    response = HttpResponse(content, content_type=job.output_type or "application/octet-stream")
    response["Content-Disposition"] = content_disposition_header(True, job.output_name)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def run_again(request: HttpRequest, pk: Any) -> HttpResponse:
    job = services.run_again(_own(request, pk), user=request.user)
    return redirect("jobs:job", pk=job.pk)


@login_required
def my_jobs(request: HttpRequest) -> HttpResponse:
    user: Any = request.user  # signed in: login_required
    jobs = Job.objects.filter(user=user, kind__in=registry.listed())[:50]
    return render(request, "jobs/list.html", {"jobs": jobs})
