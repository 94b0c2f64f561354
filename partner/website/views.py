from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from partner.accounts.countries import country_name, name_key
from partner.accounts.models import Centre, Country
from partner.dictionary.loader import NoDictionary, get_dictionary
from partner.lib.language import request_language
from partner.release import Release

#: Shown instead of a hidden count: small, or hidden so that a small one cannot be worked out.
HIDDEN = "…"


def _rows(counts: list[tuple[Any, int | None]]) -> list[tuple[Any, int | None]]:
    """Released counts, the largest first and the hidden last, by label within each (never by a
    hidden count)."""
    return sorted(counts, key=lambda row: (row[1] is None, -(row[1] or 0), name_key(str(row[0]))))


def home(request: HttpRequest) -> HttpResponse:
    try:
        dictionary = get_dictionary()
    except NoDictionary:
        dictionary = None
    public = not request.user.is_authenticated
    # The figures are an analysis, released for the viewer: the public's leave out drafts and cases
    # whose consent was withdrawn; a member's count the drafts of their own scope, their own work.
    release = Release.public() if public else Release.for_viewer(request.user, drafts=True)
    names = {e.code: e.names for e in dictionary.entities} if dictionary else {}
    lang = request_language(request)
    by_entity = _rows(release.count_cases("entity__code"))
    top = max((n or 0 for _code, n in by_entity), default=1) or 1
    entity_rows = [
        {
            "code": code,
            "name": names[code].get(lang) if code in names else None,
            "n": HIDDEN if n is None else n,
            "width": 0 if n is None else round(100 * n / top),
        }
        for code, n in by_entity
    ]
    # Counted by code and named in the page's language: "Italia", "Włochy", never "Italy" on those pages.
    by_country = [
        {"name": name, "n": HIDDEN if n is None else n}
        for name, n in _rows(
            [(country_name(code, code), n) for code, n in release.count_cases("centre__country__code") if code]
        )
    ]
    context = {
        "dictionary": dictionary,
        "entity_count": len(dictionary.entities) if dictionary else 0,
        "module_count": sum(1 for f in dictionary.forms if f.is_module) if dictionary else 0,
        "field_count": sum(len(f.fields) for f in dictionary.forms) if dictionary else 0,
        "case_count": _shown(release.total_cases()),
        # Children, not pseudonyms: patients linked as the same child count once.
        "patient_count": _shown(release.children()),
        "centre_count": Centre.objects.count(),
        "country_count": Country.objects.filter(centres__isnull=False).distinct().count(),
        "entity_rows": entity_rows,
        "country_rows": by_country,
        "public": public,
        "exact": release.exact,
    }
    return render(request, "website/home.html", context)


def _shown(n: int | None) -> int | str:
    return HIDDEN if n is None else n


def health(request: HttpRequest) -> JsonResponse:
    """For a load balancer's probe: answers without the database, so it says the server is up, no more."""
    return JsonResponse({"status": "ok"})
