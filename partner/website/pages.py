"""The public pages: about, the very rare tumours, guidelines, expert consultation, national groups,
news and statistics. No log-in; coordinators see the links that manage the content."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from partner.accounts.countries import name_key
from partner.accounts.security import is_coordinator
from partner.dictionary.loader import NoDictionary, get_dictionary
from partner.lib.downloads import download
from partner.lib.language import request_language

from . import statistics
from .models import Guideline, GuidelineFile, NationalGroup, NewsItem


def _own_language_first(items: QuerySet[Any], language: str) -> QuerySet[Any]:
    return items.annotate(
        _own=Case(When(language=language, then=Value(0)), default=Value(1), output_field=IntegerField())
    ).order_by("_own", *items.model._meta.ordering)


def _manages(request: HttpRequest) -> bool:
    return bool(request.user.is_authenticated and is_coordinator(request.user))


def _entities(language: str) -> list[dict[str, Any]]:
    try:
        d = get_dictionary()
    except NoDictionary:
        return []
    return [
        {
            "code": e.code,
            "name": e.names.get(language),
            "description": e.description.get(language) if e.description else "",
            "orpha": e.orpha,
            "panel": e.panel,
        }
        for e in sorted(d.entities, key=lambda e: e.names.get(language))
    ]


def about(request: HttpRequest) -> HttpResponse:
    return render(request, "website/about.html", {"threshold": settings.PARTNER_MIN_CELL_COUNT})


def tumours(request: HttpRequest) -> HttpResponse:
    language = request_language(request)
    published = set(
        Guideline.objects.exclude(status=Guideline.Status.DRAFT).values_list("entity", flat=True).distinct()
    )
    entities = _entities(language)
    for entity in entities:
        entity["has_guidelines"] = entity["code"] in published
    return render(request, "website/tumours.html", {"entities": entities})


def guidelines(request: HttpRequest) -> HttpResponse:
    language = request_language(request)
    manages = _manages(request)
    items = Guideline.objects.all() if manages else Guideline.objects.exclude(status=Guideline.Status.DRAFT)
    entity = request.GET.get("entity", "")
    names = {e["code"]: e["name"] for e in _entities(language)}
    if entity:
        if entity not in names:
            raise Http404("no such entity")
        items = items.filter(entity=entity)
    items = _own_language_first(items.prefetch_related("files"), language)
    rows = [{"guideline": g, "entity_name": names.get(g.entity, g.entity)} for g in items]
    context = {"rows": rows, "entity": entity, "entity_name": names.get(entity), "manages": manages, "names": names}
    return render(request, "website/guidelines.html", context)


def guideline_file(request: HttpRequest, pk: int, file_id: int) -> HttpResponse:
    guideline = get_object_or_404(Guideline, pk=pk)
    if guideline.status == Guideline.Status.DRAFT and not _manages(request):
        raise Http404("no such guideline")
    item = get_object_or_404(GuidelineFile, pk=file_id, guideline=guideline)
    with item.file.open("rb") as handle:
        return download(handle.read(), "application/pdf", item.name)


def consultation(request: HttpRequest) -> HttpResponse:
    from partner.consult.models import Panel

    language = request_language(request)
    by_panel: dict[str, list[str]] = {}
    for entity in _entities(language):
        by_panel.setdefault(entity["panel"], []).append(entity["name"])
    panels = [{"name": label, "entities": by_panel.get(code, [])} for code, label in Panel.choices]
    return render(request, "website/consultation.html", {"panels": panels})


def groups(request: HttpRequest) -> HttpResponse:
    # By the country's name in the page's language: Niemcy before Włochy on a Polish page.
    items = sorted(
        NationalGroup.objects.select_related("country"), key=lambda g: (name_key(g.country.local_name), g.name)
    )
    return render(request, "website/groups.html", {"groups": items, "manages": _manages(request)})


def news(request: HttpRequest) -> HttpResponse:
    manages = _manages(request)
    items = NewsItem.objects.all() if manages else NewsItem.objects.filter(visible=True)
    return render(request, "website/news.html", {"items": items[:50], "manages": manages})


def news_item(request: HttpRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(NewsItem, pk=pk)
    if not item.visible and not _manages(request):
        raise Http404("no such news")
    paragraphs = [p.strip() for p in item.body.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return render(
        request, "website/news_item.html", {"item": item, "paragraphs": paragraphs, "manages": _manages(request)}
    )


def public_statistics(request: HttpRequest) -> HttpResponse:
    tables = statistics.breakdowns(request_language(request))
    return render(
        request,
        "website/statistics.html",
        {"tables": tables, "threshold": settings.PARTNER_MIN_CELL_COUNT},
    )
