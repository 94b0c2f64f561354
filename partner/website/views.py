from __future__ import annotations

from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from partner.accounts.models import Centre, Country
from partner.cases.models import Patient, TumourCase
from partner.dictionary.loader import NoDictionary, get_dictionary

#: Counts below this are shown as "< 5" to visitors who are not logged in.
PUBLIC_MIN_COUNT = 5


def _suppress(n: int, public: bool) -> str | int:
    return f"< {PUBLIC_MIN_COUNT}" if public and 0 < n < PUBLIC_MIN_COUNT else n


def home(request: HttpRequest) -> HttpResponse:
    try:
        dictionary = get_dictionary()
    except NoDictionary:
        dictionary = None
    public = not request.user.is_authenticated
    # The figures are an analysis: cases whose consent was withdrawn are not counted.
    cases = TumourCase.objects.for_analysis()
    if not public:
        cases = cases.restrict(request.user)
    by_entity = list(cases.values("entity__code").annotate(n=Count("id")).order_by("-n", "entity__code"))
    names = {e.code: e.names for e in dictionary.entities} if dictionary else {}
    lang = getattr(request, "LANGUAGE_CODE", "en")
    top = max((row["n"] for row in by_entity), default=1)
    entity_rows = [
        {
            "code": row["entity__code"],
            "name": names[row["entity__code"]].get(lang) if row["entity__code"] in names else None,
            "n": _suppress(row["n"], public),
            "width": 0 if public and row["n"] < PUBLIC_MIN_COUNT else round(100 * row["n"] / top),
        }
        for row in by_entity
    ]
    by_country = [
        {"name": row["centre__country__name"], "n": _suppress(row["n"], public)}
        for row in cases.values("centre__country__name").annotate(n=Count("id")).order_by("-n")
    ]
    context = {
        "dictionary": dictionary,
        "entity_count": len(dictionary.entities) if dictionary else 0,
        "module_count": sum(1 for f in dictionary.forms if f.is_module) if dictionary else 0,
        "field_count": sum(len(f.fields) for f in dictionary.forms) if dictionary else 0,
        "case_count": cases.count(),
        "patient_count": Patient.objects.filter(cases__in=cases).distinct().count(),
        "centre_count": Centre.objects.count(),
        "country_count": Country.objects.filter(centres__isnull=False).distinct().count(),
        "entity_rows": entity_rows,
        "country_rows": by_country,
        "public": public,
    }
    return render(request, "website/home.html", context)


def health(request: HttpRequest) -> JsonResponse:
    """For a load balancer's probe: answers without the database, so it says the server is up, no more."""
    return JsonResponse({"status": "ok"})
