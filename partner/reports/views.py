"""The report page of an entity, its PDF, its tables as CSV and the evidence pack, each within the
reader's scope; the population page where denominators are loaded."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from partner.accounts.security import is_european_coordinator
from partner.dictionary.loader import Dictionary, get_dictionary
from partner.jobs import services as jobs
from partner.lib.figures import svg
from partner.lib.language import request_language
from partner.release import Release

from .evidence import build_evidence_pack
from .models import PopulationLoad
from .population import PopulationError, coverage, load_population, population_frame
from .report import Report, build_report

#: The largest population file accepted from the web (Eurostat's whole demo_pjan is about 60 MB).
MAX_POPULATION_UPLOAD = 100 * 1024 * 1024


def _entity(entity: str) -> Dictionary:
    d = get_dictionary()
    if entity not in d.entity_by_code:
        raise Http404(f"no entity {entity} in the dictionary")
    return d


def _built(build: Callable[..., Report], release: Release, entity: str, language: str) -> Report:
    """A report (or an evidence pack) of the entity from what `release` gives."""
    d = _entity(entity)
    frames = release.frames(entity=entity, dictionary=d)
    return build(frames, entity, d, release=release, population=population_frame(), language=language)


def released_report(user: Any, entity: str, language: str, *, download: bool = False) -> Report:
    """The entity's report for `user`, released for them; a download (the PDF) is always protected."""
    release = Release.for_viewer(user)
    return _built(build_report, release.downloaded() if download else release, entity, language)


def evidence_pack(user: Any, entity: str, language: str) -> Report:
    """The evidence pack pooled over the whole registry, suppressed: for anyone who holds a role."""
    if not user.memberships.exists():
        raise PermissionDenied("the evidence pack is for the registry's members")
    return _built(build_evidence_pack, Release.pooled(), entity, language)


def _report(request: HttpRequest, entity: str) -> Report:
    return released_report(request.user, entity, request_language(request))


@login_required
def index(request: HttpRequest) -> HttpResponse:
    """The entities of the dictionary with the cases of each the reader's reports count."""
    d = get_dictionary()
    release = Release.for_viewer(request.user)
    counts = dict(release.count_cases("entity__code"))
    threshold = release.threshold
    entities = [
        {
            "code": code,
            "name": entity.names.get(request_language(request)),
            "cases": code in counts,
            "shown": f"<{threshold}" if code in counts and counts[code] is None else counts.get(code, 0),
        }
        for code, entity in d.entity_by_code.items()
    ]
    entities.sort(key=lambda e: (not e["cases"], e["name"]))  # never by the count, which may be hidden
    return render(request, "reports/index.html", {"entities": entities, "suppressed": not release.exact})


@login_required
def entity_report(request: HttpRequest, entity: str) -> HttpResponse:
    report = _report(request, entity)
    figures = {}
    for section in report.sections:
        figure = section.figure()
        if figure is not None:
            figures[section.key] = svg(figure, section.figure_title or section.title, section.key)
    return render(request, "reports/entity.html", {"report": report, "figures": figures})


def _pdf_job(request: HttpRequest, entity: str, kind: str, title: str) -> HttpResponse:
    """The PDF is made by the worker (a few seconds of drawing): the reader is sent to its job's page,
    which offers the download when it is ready."""
    _entity(entity)
    job = jobs.start(
        kind, user=request.user, title=title, params={"entity": entity}, language=request_language(request)
    )
    return redirect("jobs:job", pk=job.pk)


@login_required
def report_pdf(request: HttpRequest, entity: str) -> HttpResponse:
    return _pdf_job(request, entity, "report_pdf", _("Report of %(entity)s as PDF") % {"entity": entity})


@login_required
def evidence_pdf(request: HttpRequest, entity: str) -> HttpResponse:
    user: Any = request.user
    if not user.memberships.exists():
        raise PermissionDenied("the evidence pack is for the registry's members")
    return _pdf_job(request, entity, "evidence_pdf", _("Evidence pack of %(entity)s as PDF") % {"entity": entity})


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


@login_required
@require_http_methods(["GET", "POST"])
def population(request: HttpRequest) -> HttpResponse:
    """Which years of which countries have their population loaded; a European coordinator loads more."""
    may_load = is_european_coordinator(request.user)
    if request.method == "POST":
        if not may_load:
            raise PermissionDenied("only a European coordinator loads populations")
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("Choose a file to load."))
        elif upload.size is not None and upload.size > MAX_POPULATION_UPLOAD:
            messages.error(request, _("%(name)s is larger than 100 MB.") % {"name": upload.name})
        else:
            try:
                load = load_population(upload, name=upload.name or "upload", user=request.user)
            except PopulationError as error:
                messages.error(request, str(error))
            else:
                messages.success(
                    request,
                    _("%(name)s: %(rows)s counts loaded, %(replaced)s of them replacing earlier ones.")
                    % {"name": load.source, "rows": load.rows, "replaced": load.replaced},
                )
        return redirect("reports:population")
    spans = coverage(population_frame()).spans()
    context = {"spans": sorted(spans.items()), "loads": PopulationLoad.objects.all()[:20], "may_load": may_load}
    return render(request, "reports/population.html", context)
