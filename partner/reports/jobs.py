"""The report and the evidence pack as PDFs, drawn by the worker (seconds of matplotlib each)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from partner.jobs.context import JobContext
from partner.jobs.models import Job
from partner.jobs.registry import register

from .pdf import render_pdf
from .report import Report


def _saved(report: Report, name: str, context: JobContext) -> dict[str, Any]:
    context.stage(_("Drawing the PDF"))
    pdf = render_pdf(report)
    context.save_output(pdf, f"{report.entity}-{name}-{report.date.isoformat()}.pdf", "application/pdf")
    return {}


def report_pdf(job: Job, context: JobContext) -> dict[str, Any]:
    from .views import released_report

    report = released_report(job.user, job.params["entity"], job.language, download=True)
    return _saved(report, "report", context)


def evidence_pdf(job: Job, context: JobContext) -> dict[str, Any]:
    from .views import evidence_pack

    return _saved(evidence_pack(job.user, job.params["entity"], job.language), "evidence-pack", context)


register("report_pdf", report_pdf)
register("evidence_pdf", evidence_pdf)
