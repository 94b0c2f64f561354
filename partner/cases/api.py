"""Cases over the API: the same scoping, access log, validation and history as the web."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from partner.accounts.auth import API_AUTH
from partner.accounts.countries import is_country
from partner.api_inputs import Pagination
from partner.dictionary.loader import get_dictionary
from partner.lib.pseudonym import Identity, normalise_name, pseudonym
from partner.quality.api import FindingOut, case_findings

from .guard import ChangeRefused, NotPermitted, StaleVersion
from .models import AccessLog, FormRecord, Patient, Sex, TumourCase
from .records import add_record, delete_record, unknown_fields, update_record
from .scoping import registration_centres
from .services import CaseInvalid, FormError, create_case, validate_case
from .validation import PATIENT_FIELDS
from .views import visible_case
from .workflow import TransitionRefused, change_status

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
    diagnosis_date: dt.date | None  # None once erased after a withdrawal of consent
    status: str
    dictionary_version: int


class RecordOut(Schema):
    form: str
    number: int
    version: int
    values: dict[str, Any]


class CaseDetailOut(CaseOut):
    records: list[RecordOut]
    findings: list[FindingOut]  # open quality findings: fix the errors, confirm or fix the rest


class RecordSaved(RecordOut):
    findings: list[FindingOut]  # the case's open quality findings after this save


class RecordPatch(Schema):
    """A partial change: only the fields given change."""

    version: int = Field(description="the record's version as you read it; a newer one answers 409")
    values: dict[str, Any] = Field(
        description=(
            "field code -> new value, for the fields to change only: a field left out keeps its value, "
            "null clears it. A key that is no field of the form is refused (422) and nothing is changed. "
            "Fields computed by the registry are ignored. The registration's date_of_birth and sex derive "
            "the child's pseudonym: they cannot be changed here."
        )
    )


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


def _detail(case: TumourCase) -> dict[str, Any]:
    records = [_record_out(r) for r in case.records.select_related("form").order_by("form__position", "number")]
    return {**_case_out(case), "records": records, "findings": case_findings(case)}


def _problems(errors: list[FormError]) -> list[dict[str, Any]]:
    return [{"form": e.form, "number": e.instance, "field": e.field, "message": e.message} for e in errors]


def _visible(request: HttpRequest, pk: int, what: str) -> TumourCase:
    return visible_case(request, pk, what, channel=AccessLog.Channel.API, related=("dictionary_version",))


@router.get("", response=list[CaseOut], summary="Cases in your scope")
@paginate(Pagination)
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
    return _detail(_visible(request, case_id, "api case"))


def _refused(exc: ChangeRefused) -> Any:
    """403 for a role that does not allow the change, 409 for the case's state."""
    return Status(403 if isinstance(exc, NotPermitted) else 409, {"detail": str(exc)})


@router.patch(
    "/{case_id}/records/{form}/{number}",
    response={200: RecordSaved, 403: Error, 404: Error, 409: Conflict, 422: Invalid},
    summary="Change some fields of one form record; give the version you read, a stale one gets 409",
    description=(
        "Partial: the fields left out of `values` keep their values, a field given as null is cleared. "
        "Unknown fields are refused with 422 before anything is written. A locked case, or one "
        "whose consent was withdrawn, answers 409; a validated case goes back to submitted."
    ),
)
def patch_record(request: HttpRequest, case_id: int, form: str, number: int, payload: RecordPatch) -> Any:
    case = _visible(request, case_id, "api record update")
    dictionary = get_dictionary(case.dictionary_version.number)
    if form not in dictionary.form_by_code or not case.records.filter(form__code=form, number=number).exists():
        return Status(404, {"detail": f"case {case_id} has no record {form} #{number}"})
    if unknown := unknown_fields(dictionary, form, payload.values):
        errors = _problems([FormError(form, number, name, "no such field in this form") for name in unknown])
        return Status(422, {"detail": "unknown fields: nothing was changed", "errors": errors})
    try:
        record = update_record(
            dictionary=dictionary,
            case=case,
            form_code=form,
            number=number,
            values=payload.values,
            version=payload.version,
            user=request.user,
        )
    except StaleVersion as exc:
        return Status(409, {"detail": f"{exc}: reload, compare and save again", "current": _record_out(exc.record)})
    except ChangeRefused as exc:
        return _refused(exc)
    except CaseInvalid as exc:
        return Status(
            422, {"detail": "the values do not pass the dictionary's validation", "errors": _problems(exc.errors)}
        )
    return Status(200, {**_record_out(record), "findings": case_findings(case)})


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


class IdentityIn(Schema):
    """What identifies the child: turned into the pseudonym at once, never stored nor logged."""

    given_names: str = Field(min_length=1, max_length=200)
    family_names: str = Field(min_length=1, max_length=200)
    date_of_birth: dt.date
    sex: Sex
    country_of_birth: str = Field(pattern=r"^[A-Za-z]{2}$", description="ISO 3166 code, e.g. IT")


def identity_problems(identity: IdentityIn) -> list[dict[str, Any]]:
    """Names with no letter, which would all give one pseudonym, and a country code that names no
    country: checked here, not by the schema, so the answer is the documented 422 and names no value."""
    problems = [
        {"form": "identity", "number": 1, "field": name, "message": "needs at least one letter"}
        for name in ("given_names", "family_names")
        if not normalise_name(getattr(identity, name))
    ]
    if not is_country(identity.country_of_birth):
        problems.append(
            {"form": "identity", "number": 1, "field": "country_of_birth", "message": "not an ISO 3166 country code"}
        )
    return problems


def identity_of(identity: IdentityIn) -> Identity:
    return Identity(
        identity.given_names,
        identity.family_names,
        identity.date_of_birth,
        identity.sex,
        identity.country_of_birth,
    )


def pseudonym_of(identity: IdentityIn) -> str:
    return pseudonym(identity_of(identity), settings.PSEUDONYM_KEY)


class CaseIn(Schema):
    identity: IdentityIn | None = Field(None, description="the child's identifying data, for a child new to you")
    pseudonym: str | None = Field(None, description="or the pseudonym of a patient already in your scope")
    centre: str | None = Field(None, description="the registering centre's code; needed if you work at several")
    forms: dict[str, dict[str, Any] | list[dict[str, Any]]] = Field(
        description="form code -> field code -> value; a list of those for a repeating form"
    )


@router.post(
    "",
    response={201: CaseDetailOut, 403: Error, 404: Error, 422: Invalid},
    summary="Register a case at your centre, for a new child (identity) or one you know (pseudonym)",
)
def post_case(request: HttpRequest, payload: CaseIn) -> Any:
    centres = list(registration_centres(request.user))
    if not centres:
        return Status(403, {"detail": "only a centre's data managers and clinicians register cases"})
    if (payload.identity is None) == (payload.pseudonym is None):
        return Status(422, {"detail": "give either identity or pseudonym", "errors": []})
    if payload.identity is not None and (problems := identity_problems(payload.identity)):
        return Status(422, {"detail": "the names need letters", "errors": problems})
    codes = ", ".join(c.code for c in centres)
    if payload.centre:
        centre = next((c for c in centres if c.code.upper() == payload.centre.upper()), None)
        if centre is None:
            return Status(422, {"detail": f"you register cases at {codes}, not at {payload.centre}", "errors": []})
    elif len(centres) > 1:
        return Status(
            422, {"detail": f"you register cases at several centres: give centre, one of {codes}", "errors": []}
        )
    else:
        centre = centres[0]

    if payload.identity is not None:
        key = pseudonym_of(payload.identity)
        fixed = {"date_of_birth": payload.identity.date_of_birth.isoformat(), "sex": payload.identity.sex.value}
    else:
        patient = Patient.objects.restrict(request.user).filter(pseudonym=payload.pseudonym).first()
        if patient is None:
            return Status(404, {"detail": "no patient with this pseudonym in your scope"})
        key = patient.pseudonym
        fixed = {"date_of_birth": patient.date_of_birth.isoformat(), "sex": patient.sex}
    forms: dict[str, Any] = dict(payload.forms)
    registration = forms.get("registration") or {}
    clashes = []
    if isinstance(registration, dict):
        clashes = [
            FormError("registration", 1, name, f"the patient's {name} is {fixed[name]}: leave it out or give the same")
            for name in PATIENT_FIELDS
            if registration.get(name) not in (None, "") and str(registration[name]).strip().lower() != fixed[name]
        ]
        forms["registration"] = {**registration, **fixed}
    dictionary = get_dictionary()
    refused = "the case was not registered: correct every field named"
    if clashes:
        others = validate_case(dictionary, forms, partial=True, pseudonym=key)[1]
        return Status(422, {"detail": refused, "errors": _problems(clashes + others)})
    try:
        case = create_case(
            dictionary=dictionary,
            centre=centre,
            pseudonym=key,
            forms=forms,
            user=request.user,
            identity=identity_of(payload.identity) if payload.identity is not None else None,
        )
    except CaseInvalid as exc:
        return Status(422, {"detail": refused, "errors": _problems(exc.errors)})
    return Status(
        201,
        _detail(
            TumourCase.objects.select_related("patient", "centre__country", "entity", "dictionary_version").get(
                pk=case.pk
            )
        ),
    )


class RecordIn(Schema):
    values: dict[str, Any]


@router.post(
    "/{case_id}/records/{form}",
    response={201: RecordSaved, 403: Error, 404: Error, 409: Conflict, 422: Invalid},
    summary="Add a treatment line, a follow-up event or a form the case does not have yet",
)
def post_record(request: HttpRequest, case_id: int, form: str, payload: RecordIn) -> Any:
    case = _visible(request, case_id, "api record add")
    dictionary = get_dictionary(case.dictionary_version.number)
    if form not in dictionary.form_by_code:
        return Status(404, {"detail": f"no form {form} in dictionary version {dictionary.number}"})
    try:
        record = add_record(dictionary=dictionary, case=case, form_code=form, values=payload.values, user=request.user)
    except ChangeRefused as exc:
        return _refused(exc)
    except CaseInvalid as exc:
        return Status(422, {"detail": "the record was not added", "errors": _problems(exc.errors)})
    return Status(201, {**_record_out(record), "findings": case_findings(case)})


@router.delete(
    "/{case_id}/records/{form}/{number}",
    response={204: None, 403: Error, 404: Error, 409: Conflict, 422: Invalid},
    summary="Remove a line or event of a repeating form; give the version you read, a stale one gets 409",
)
def remove_record(request: HttpRequest, case_id: int, form: str, number: int, version: int) -> Any:
    case = _visible(request, case_id, "api record removal")
    if not case.records.filter(form__code=form, number=number).exists():
        return Status(404, {"detail": f"case {case_id} has no record {form} #{number}"})
    try:
        delete_record(case=case, form_code=form, number=number, version=version, user=request.user)
    except StaleVersion as exc:
        return Status(409, {"detail": f"{exc}: reload, compare and remove again", "current": _record_out(exc.record)})
    except ChangeRefused as exc:
        return _refused(exc)
    except CaseInvalid as exc:
        return Status(422, {"detail": "the record was not removed", "errors": _problems(exc.errors)})
    return Status(204, None)
