"""The report page of an entity, its PDF and its tables as CSV, each within the reader's scope."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from partner.accounts.models import Role
from partner.accounts.security import is_coordinator
from partner.cases.frames import CaseFrames, build_frames, case_frames
from partner.cases.models import TumourCase
from partner.dictionary.loader import Dictionary, get_dictionary
from partner.quality.dashboard import _svg

from .pdf import render_pdf
from .report import Report, build_report

#: Roles that see no case but may see the registry's aggregates, always suppressed.
AGGREGATE_ROLES = {Role.EXPERT, Role.RESEARCHER}


def _frames(user: Any, d: Dictionary) -> tuple[CaseFrames, bool]:
    """The cases the reader's report counts, and whether its counts must be suppressed: experts
    and researchers get the whole registry suppressed, everyone else their own scope, suppressed
    unless they coordinate a country or the registry."""
    if user.memberships.filter(role__in=AGGREGATE_ROLES).exists():
        return build_frames(TumourCase.objects.all().for_analysis(), dictionary=d), True
    return case_frames(user, dictionary=d), not is_coordinator(user)


def _report(request: HttpRequest, entity: str, *, download: bool = False) -> Report:
    """The entity's report for the reader; a download (the PDF) is always suppressed."""
    d = get_dictionary()
    if entity not in d.entity_by_code:
        raise Http404(f"no entity {entity} in the dictionary")
    frames, suppressed = _frames(request.user, d)
    return build_report(
        frames,
        entity,
        d,
        threshold=settings.PARTNER_MIN_CELL_COUNT,
        suppressed=suppressed or download,
        language=(getattr(request, "LANGUAGE_CODE", None) or "en")[:2],
    )


@login_required
def entity_report(request: HttpRequest, entity: str) -> HttpResponse:
    report = _report(request, entity)
    svg = None
    if report.survival_figure is not None:
        svg = _svg(report.survival_figure, report.survival_figure.axes[0].get_title(), "os")
    return render(request, "reports/entity.html", {"report": report, "survival_svg": svg})


@login_required
def report_pdf(request: HttpRequest, entity: str) -> HttpResponse:
    report = _report(request, entity, download=True)
    response = HttpResponse(render_pdf(report), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{entity}-report-{report.date.isoformat()}.pdf"'
    return response


@login_required
def report_csv(request: HttpRequest, entity: str, table: str) -> HttpResponse:
    report = _report(request, entity)
    if table not in report.tables:
        raise Http404(f"no table {table} in this report")
    response = HttpResponse(report.tables[table].frame.to_csv(index=False), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{entity}-{table}.csv"'
    return response


@login_required
def report_zip(request: HttpRequest, entity: str) -> HttpResponse:
    report = _report(request, entity)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for key, table in report.tables.items():
            archive.writestr(f"{entity}-{key}.csv", table.frame.to_csv(index=False))
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{entity}-tables.zip"'
    return response
