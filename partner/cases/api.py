"""Cases over the API: the same scoping, access log, validation and history as the web."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from ninja.pagination import LimitOffsetPagination, paginate

from partner.accounts.auth import API_AUTH
from partner.dictionary.loader import get_dictionary

from .models import AccessLog, FormRecord, TumourCase
from .services import (
    CaseInvalid,
    CaseLocked,
    StaleVersion,
    TransitionRefused,
    change_status,
    update_record,
)
from .views import visible_case

router = Router(tags=["cases"], auth=API_AUTH)


class CaseOut(Schema):
    id: int
    pseudonym: str
    centre: str
    country: str
    entity: str | None
    morphology: str
    topography: str
    iccc_group: str
    iccc_extended: str
    diagnosis_date: dt.date
    status: str
    dictionary_version: int


class RecordOut(Schema):
    form: str
    number: int
    version: int
    values: dict[str, Any]


class CaseDetailOut(CaseOut):
    records: list[RecordOut]


class RecordPatch(Schema):
    version: int
    values: dict[str, Any]


class FieldProblem(Schema):
    form: str
    number: int
    field: str
    message: str


class Invalid(Schema):
    detail: str
    errors: list[FieldProblem]


class Conflict(Schema):
    detail: str
    current: RecordOut | None = None


class Error(Schema):
    detail: str


def _case_out(case: TumourCase) -> dict[str, Any]:
    return {
        "id": case.pk,
        "pseudonym": case.patient.pseudonym,
        "centre": case.centre.code,
        "country": case.centre.country.code,
        "entity": case.entity.code if case.entity else None,
        "morphology": case.morphology,
        "topography": case.topography,
        "iccc_group": case.iccc_group,
        "iccc_extended": case.iccc_extended,
        "diagnosis_date": case.diagnosis_date,
        "status": case.status,
        "dictionary_version": case.dictionary_version.number,
    }


def _record_out(record: FormRecord) -> dict[str, Any]:
    return {"form": record.form.code, "number": record.number, "version": record.version, "values": record.values}


def _visible(request: HttpRequest, pk: int, what: str) -> TumourCase:
    return visible_case(request, pk, what, channel=AccessLog.Channel.API, related=("dictionary_version",))


@router.get("", response=list[CaseOut], summary="Cases in your scope")
@paginate(LimitOffsetPagination)
def list_cases(request: HttpRequest, status: str | None = None, entity: str | None = None) -> list[dict[str, Any]]:
    cases = TumourCase.objects.restrict(request.user).select_related(
        "patient", "centre__country", "entity", "dictionary_version"
    )
    if status:
        cases = cases.filter(status=status)
    if entity:
        cases = cases.filter(entity__code=entity.upper())
    return [_case_out(c) for c in cases.order_by("id")]


@router.get("/{case_id}", response={200: CaseDetailOut, 404: Error}, summary="One case with its form records")
def get_case(request: HttpRequest, case_id: int) -> dict[str, Any]:
    case = _visible(request, case_id, "api case")
    records = [_record_out(r) for r in case.records.select_related("form").order_by("form__position", "number")]
    return {**_case_out(case), "records": records}


@router.patch(
    "/{case_id}/records/{form}/{number}",
    response={200: RecordOut, 404: Error, 409: Conflict, 422: Invalid},
    summary="Change one form record; give the version you read, a stale one gets 409",
)
def patch_record(request: HttpRequest, case_id: int, form: str, number: int, payload: RecordPatch) -> Any:
    case = _visible(request, case_id, "api record update")
    if not case.records.filter(form__code=form, number=number).exists():
        return Status(404, {"detail": f"case {case_id} has no record {form} #{number}"})
    try:
        record = update_record(
            dictionary=get_dictionary(case.dictionary_version.number),
            case=case,
            form_code=form,
            number=number,
            values=payload.values,
            version=payload.version,
            user=request.user,
        )
    except StaleVersion as exc:
        return Status(409, {"detail": f"{exc}: reload, compare and save again", "current": _record_out(exc.record)})
    except CaseLocked as exc:
        return Status(409, {"detail": str(exc)})
    except CaseInvalid as exc:
        errors = [{"form": e.form, "number": e.instance, "field": e.field, "message": e.message} for e in exc.errors]
        return Status(422, {"detail": "the values do not pass the dictionary's validation", "errors": errors})
    return Status(200, _record_out(record))


class StatusChange(Schema):
    status: str


@router.post(
    "/{case_id}/status",
    response={200: CaseOut, 403: Error, 404: Error, 422: Invalid},
    summary="Move a case: draft, submitted, validated (national coordinator), locked",
)
def post_status(request: HttpRequest, case_id: int, payload: StatusChange) -> Any:
    case = _visible(request, case_id, "api status change")
    try:
        case = change_status(
            dictionary=get_dictionary(case.dictionary_version.number), case=case, to=payload.status, user=request.user
        )
    except TransitionRefused as exc:
        return Status(403, {"detail": str(exc)})
    except CaseInvalid as exc:
        errors = [{"form": e.form, "number": e.instance, "field": e.field, "message": e.message} for e in exc.errors]
        return Status(422, {"detail": "the case is not complete", "errors": errors})
    return Status(
        200,
        _case_out(
            TumourCase.objects.select_related("patient", "centre__country", "entity", "dictionary_version").get(
                pk=case.pk
            )
        ),
    )
