"""Dictionary endpoints: versions, entities, forms and fields, classification. Public, read-only."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import get_language
from ninja import Router, Schema, Status
from ninja.errors import HttpError

from partner.lib.icdo import CodeError

from .loader import Dictionary, NoDictionary, get_dictionary
from .models import DictionaryVersion
from .schema import Entity, FieldDef, FormDef

router = Router(tags=["dictionary"])


class VersionOut(Schema):
    number: int
    released: str
    title: str
    description: str
    content_hash: str


class EntityOut(Schema):
    code: str
    name: str
    names: dict[str, str]
    description: str | None
    iccc_extended: str
    iccc_group: str
    orpha: int | None
    incidence_vrt: bool
    expert_scope: bool
    panel: str
    match: list[dict[str, Any]]
    modules: list[str]


class ChoiceOut(Schema):
    code: str
    label: str
    labels: dict[str, str]


class FieldOut(Schema):
    code: str
    label: str
    labels: dict[str, str]
    help: str | None
    type: str
    unit: str | None
    min: float | None
    max: float | None
    code_system: str | None
    choices: list[ChoiceOut]
    required: bool
    required_if: str | None
    show_if: str | None
    computed: str | None
    mappings: dict[str, str | None]


class FormSummary(Schema):
    code: str
    label: str
    repeating: bool
    entities: list[str]
    fields: int


class FormOut(Schema):
    code: str
    label: str
    labels: dict[str, str]
    repeating: bool
    entities: list[str]
    fields: list[FieldOut]


class ClassificationOut(Schema):
    morphology: str
    topography: str
    age_years: float | None
    iccc_group: str | None
    iccc_group_name: str | None
    iccc_extended: str | None
    iccc_extended_name: str | None
    entity: str | None
    entity_name: str | None
    vrt: bool
    expert_scope: bool
    reason: str


class Error(Schema):
    detail: str


def _lang(request: HttpRequest, lang: str | None) -> str:
    return (lang or get_language() or "en")[:2]


def _dictionary(version: int | None) -> Dictionary:
    try:
        return get_dictionary(version)
    except NoDictionary as exc:
        raise HttpError(404, str(exc)) from None


def entity_out(d: Dictionary, e: Entity, lang: str) -> dict[str, Any]:
    subgroup = next((x.subgroup for x in d.iccc.extended if x.code == e.iccc_extended), "")
    return {
        "code": e.code,
        "name": e.names.get(lang),
        "names": e.names.model_dump(),
        "description": e.description.get(lang) if e.description else None,
        "iccc_extended": e.iccc_extended,
        "iccc_group": subgroup,
        "orpha": e.orpha,
        "incidence_vrt": e.incidence_vrt,
        "expert_scope": e.expert_scope,
        "panel": e.panel,
        "match": [m.model_dump(mode="json", exclude_none=True) for m in e.match],
        "modules": [f.code for f in d.modules_for(e.code)],
    }


def field_out(f: FieldDef, lang: str) -> dict[str, Any]:
    return {
        "code": f.code,
        "label": f.labels.get(lang),
        "labels": f.labels.model_dump(),
        "help": f.help.get(lang) if f.help else None,
        "type": f.type,
        "unit": f.unit,
        "min": f.min,
        "max": f.max,
        "code_system": f.code_system,
        "choices": [{"code": c.code, "label": c.labels.get(lang), "labels": c.labels.model_dump()} for c in f.choices],
        "required": f.required,
        "required_if": f.required_if,
        "show_if": f.show_if,
        "computed": f.computed,
        "mappings": f.mappings.model_dump(),
    }


def form_out(form: FormDef, lang: str) -> dict[str, Any]:
    return {
        "code": form.code,
        "label": form.labels.get(lang),
        "labels": form.labels.model_dump(),
        "repeating": form.repeating,
        "entities": form.entities,
        "fields": [field_out(f, lang) for f in form.fields],
    }


@router.get("/versions", response=list[VersionOut], summary="Loaded dictionary versions")
def versions(request: HttpRequest, lang: str | None = None) -> list[dict[str, Any]]:
    language = _lang(request, lang)
    return [
        {
            "number": v.number,
            "released": v.released.isoformat(),
            "title": v.title.get(language) or v.title["en"],
            "description": v.description,
            "content_hash": v.content_hash,
        }
        for v in DictionaryVersion.objects.order_by("number")
    ]


@router.get("/entities", response={200: list[EntityOut], 404: Error}, summary="VRT entities")
def entities(request: HttpRequest, version: int | None = None, lang: str | None = None) -> list[dict[str, Any]]:
    d = _dictionary(version)
    return [entity_out(d, e, _lang(request, lang)) for e in d.entities]


@router.get("/entities/{code}", response={200: EntityOut, 404: Error}, summary="One VRT entity")
def entity(request: HttpRequest, code: str, version: int | None = None, lang: str | None = None) -> dict[str, Any]:
    d = _dictionary(version)
    e = d.entity_by_code.get(code.upper())
    if e is None:
        raise HttpError(404, f"no entity {code!r} in dictionary version {d.number}")
    return entity_out(d, e, _lang(request, lang))


@router.get(
    "/forms", response={200: list[FormSummary], 404: Error}, summary="Forms of the common dataset and tumour modules"
)
def forms(request: HttpRequest, version: int | None = None, lang: str | None = None) -> list[dict[str, Any]]:
    d = _dictionary(version)
    language = _lang(request, lang)
    return [
        {
            "code": f.code,
            "label": f.labels.get(language),
            "repeating": f.repeating,
            "entities": f.entities,
            "fields": len(f.fields),
        }
        for f in d.forms
    ]


@router.get("/forms/{code}", response={200: FormOut, 404: Error}, summary="One form with its fields")
def form(request: HttpRequest, code: str, version: int | None = None, lang: str | None = None) -> dict[str, Any]:
    d = _dictionary(version)
    f = d.form_by_code.get(code)
    if f is None:
        raise HttpError(404, f"no form {code!r} in dictionary version {d.number}")
    return form_out(f, _lang(request, lang))


@router.get(
    "/classify",
    response={200: ClassificationOut, 400: Error, 404: Error},
    summary="Classify ICD-O-3 codes to ICCC-3 and a VRT entity",
)
def classify(
    request: HttpRequest,
    morphology: str,
    topography: str,
    age_years: float | None = None,
    version: int | None = None,
) -> Any:
    d = _dictionary(version)
    try:
        return d.classifier.classify(morphology, topography, age_years)
    except CodeError as exc:
        return Status(400, {"detail": str(exc)})
