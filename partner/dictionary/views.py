"""The dictionary browser: public, read-only, in the language of the page."""

from __future__ import annotations

from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from partner.lib.language import request_language

from .api import entity_out, field_out
from .loader import Dictionary, NoDictionary, get_dictionary
from .models import DictionaryVersion
from .schema import EU_CDE, FormDef


def _get(request: HttpRequest) -> Dictionary:
    raw = request.GET.get("version")
    try:
        return get_dictionary(int(raw) if raw and raw.isdigit() else None)
    except NoDictionary as exc:
        raise Http404(str(exc)) from None


def _summary(f: FormDef, lang: str) -> dict[str, object]:
    return {
        "code": f.code,
        "label": f.labels.get(lang),
        "fields": len(f.fields),
        "repeating": f.repeating,
        "entities": f.entities,
    }


def index(request: HttpRequest) -> HttpResponse:
    d = _get(request)
    lang = request_language(request)
    q = request.GET.get("q", "").strip().lower()
    rows = [entity_out(d, e, lang) for e in d.entities]
    if q:
        rows = [
            r
            for r in rows
            if q in r["name"].lower()
            or q in r["code"].lower()
            or q in r["iccc_group"].lower()
            or any(q in str(m.get("morphology", "")) for m in r["match"])
        ]
    context = {
        "d": d,
        "entities": rows,
        "q": q,
        "forms": [_summary(f, lang) for f in d.forms if not f.is_module],
        "modules": [_summary(f, lang) for f in d.forms if f.is_module],
        "versions": DictionaryVersion.objects.order_by("-number").annotate(n=Count("entities")),
        "lang": lang,
    }
    template = "dictionary/_entities.html" if request.htmx else "dictionary/index.html"  # type: ignore[attr-defined]
    return render(request, template, context)


def entity(request: HttpRequest, code: str) -> HttpResponse:
    d = _get(request)
    e = d.entity_by_code.get(code)
    if e is None:
        raise Http404(f"no entity {code} in dictionary version {d.number}")
    lang = request_language(request)
    extended = next((x for x in d.iccc.extended if x.code == e.iccc_extended), None)
    return render(
        request,
        "dictionary/entity.html",
        {
            "d": d,
            "e": entity_out(d, e, lang),
            "names": e.names.model_dump(),
            "extended": extended,
        },
    )


def form(request: HttpRequest, code: str) -> HttpResponse:
    d = _get(request)
    f = d.form_by_code.get(code)
    if f is None:
        raise Http404(f"no form {code} in dictionary version {d.number}")
    lang = request_language(request)
    fields = [field_out(x, lang) | {"section": x.section.get(lang) if x.section else None} for x in f.fields]
    for row in fields:
        row["eu_cde_name"] = EU_CDE.get(row["mappings"]["eu_cde"] or "")
    entities = [entity_out(d, d.entity_by_code[c], lang) for c in f.entities]
    return render(
        request,
        "dictionary/form.html",
        {
            "d": d,
            "form": f,
            "label": f.labels.get(lang),
            "help": f.help.get(lang) if f.help else "",
            "fields": fields,
            "entities": entities,
        },
    )
