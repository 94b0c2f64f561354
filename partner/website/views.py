from __future__ import annotations

import pandas as pd
from django.conf import settings
from django.db.models import BigIntegerField, Count
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from partner.accounts.models import Centre, Country
from partner.analysis.suppression import suppress_series
from partner.cases.models import Patient, TumourCase
from partner.dictionary.loader import NoDictionary, get_dictionary
from partner.lib.language import request_language

#: Shown instead of a count that is hidden only because it would reveal a small one.
HIDDEN = "…"


def _published(counts: list[int], public: bool) -> list[str | int]:
    """Counts as visitors may see them: small ones hidden, and never recoverable from the total.

    The total is on the page, so a lone hidden count would be the total minus the others:
    `suppress_series` hides as many more as it takes (complementary suppression), shown as "…".
    """
    if not public or not counts:
        return list(counts)
    threshold = settings.PARTNER_MIN_CELL_COUNT
    hidden = suppress_series(pd.Series(counts, dtype="int64"), threshold).attrs["suppressed"]
    return [f"< {threshold}" if 0 < n < threshold else HIDDEN if hidden.iloc[i] else n for i, n in enumerate(counts)]


def home(request: HttpRequest) -> HttpResponse:
    try:
        dictionary = get_dictionary()
    except NoDictionary:
        dictionary = None
    public = not request.user.is_authenticated
    # The public figures are an analysis: drafts and cases whose consent was withdrawn are not
    # counted. A member sees the cases of their scope, drafts included: their registry's work.
    cases = TumourCase.objects.counted() if public else TumourCase.objects.restrict(request.user).for_analysis()
    by_entity = list(cases.values("entity__code").annotate(n=Count("id")).order_by("-n", "entity__code"))
    names = {e.code: e.names for e in dictionary.entities} if dictionary else {}
    lang = request_language(request)
    top = max((row["n"] for row in by_entity), default=1)
    entity_counts = _published([row["n"] for row in by_entity], public)
    entity_rows = [
        {
            "code": row["entity__code"],
            "name": names[row["entity__code"]].get(lang) if row["entity__code"] in names else None,
            "n": shown,
            "width": round(100 * row["n"] / top) if isinstance(shown, int) else 0,
        }
        for row, shown in zip(by_entity, entity_counts, strict=True)
    ]
    countries = list(cases.values("centre__country__name").annotate(n=Count("id")).order_by("-n"))
    by_country = [
        {"name": row["centre__country__name"], "n": shown}
        for row, shown in zip(countries, _published([r["n"] for r in countries], public), strict=True)
    ]
    context = {
        "dictionary": dictionary,
        "entity_count": len(dictionary.entities) if dictionary else 0,
        "module_count": sum(1 for f in dictionary.forms if f.is_module) if dictionary else 0,
        "field_count": sum(len(f.fields) for f in dictionary.forms) if dictionary else 0,
        "case_count": cases.count(),
        # Children, not pseudonyms: patients linked as the same child count once.
        "patient_count": Patient.objects.filter(cases__in=cases)
        .annotate(child_key=Coalesce("registry_identity", "pk", output_field=BigIntegerField()))
        .values("child_key")
        .distinct()
        .count(),
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
