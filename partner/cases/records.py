"""Changing the records of an existing case: some fields of one record, a line or an event added or removed.

Each change passes the case's guard (`partner.cases.guard.open_change`) inside its transaction, is
validated against the dictionary version the case was entered under, keeps its history, and sends a
validated case back to submitted (`record_change`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from partner.dictionary.loader import Dictionary
from partner.dictionary.models import FormDefinition
from partner.dictionary.validation import validate_record

from .guard import StaleVersion, check_identity, open_change
from .models import FormRecord, Status, TumourCase
from .services import classify_columns, record_change
from .validation import CaseInvalid, FormError, compute_fields


@transaction.atomic
def update_record(
    *,
    dictionary: Dictionary,
    case: TumourCase,
    form_code: str,
    number: int,
    values: Mapping[str, Any],
    version: int,
    user: Any,
) -> FormRecord:
    """Change the given values of one record if `version` is still current; one transaction, history kept.

    Partial: a field left out keeps its value, a field given as None is cleared. The fields that
    derive the child's pseudonym (registration: date of birth, sex) are refused if they would differ
    from the patient's.
    """
    case = open_change(user, case)
    record = (
        FormRecord.objects.select_for_update(of=("self",))
        .select_related("form")
        .get(case=case, form__code=form_code, number=number)
    )
    if record.version != version:
        raise StaleVersion(record)
    form = dictionary.form_by_code[form_code]
    if unknown := unknown_fields(dictionary, form_code, values):
        raise CaseInvalid([FormError(form_code, number, name, _("no such field in this form")) for name in unknown])
    if form_code == "registration":
        check_identity(case.patient, values, number=number, clearing=True)
    context: dict[str, Any] = {}
    for other in case.records.select_related("form").exclude(pk=record.pk):
        if not other.form.repeating:
            context.update({f"{other.form.code}.{k}": v for k, v in other.values.items()})
    computed = {f.code for f in form.fields if f.computed}
    merged = {k: v for k, v in record.values.items() if k not in computed}
    if given := [name for name in values if name in computed and values[name] != record.values.get(name)]:
        raise CaseInvalid(
            [FormError(form_code, number, name, _("computed by the registry: leave it out")) for name in given]
        )
    for name, value in values.items():
        if name in computed:
            continue
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    result = validate_record(form, merged, context=context, partial=case.status == Status.DRAFT)
    if result.errors:
        raise CaseInvalid([FormError(form_code, number, e.field, e.message) for e in result.errors])
    new_values = {**{k: v for k, v in record.values.items() if k in computed}, **result.values}
    compute_fields(form, new_values, context, case.patient.pseudonym)
    if new_values == record.values:
        return record
    record.values = new_values
    record.version += 1
    record._history_user = user  # type: ignore[attr-defined]
    record.save()
    if form_code == "diagnosis" and {"diagnosis_date", "morphology", "topography"} <= new_values.keys():
        classify_columns(dictionary, case, new_values, case.patient.date_of_birth)
    record_change(case, user)
    return record


def unknown_fields(dictionary: Dictionary, form_code: str, values: Mapping[str, Any]) -> list[str]:
    """The keys of `values` that are no field of the form, sorted; at most 20 (a client may send millions)."""
    known = {f.code for f in dictionary.form_by_code[form_code].fields}
    unknown: list[str] = []
    for name in values:
        if name not in known:
            unknown.append(name)
            if len(unknown) == 20:
                break
    return sorted(unknown)


@transaction.atomic
def add_record(
    *, dictionary: Dictionary, case: TumourCase, form_code: str, values: Mapping[str, Any], user: Any
) -> FormRecord:
    """Add one instance of a form: the next treatment line or follow-up event, or a single form not yet filled."""
    case = open_change(user, case)
    form = dictionary.form_by_code.get(form_code)
    if form is None:
        missing = f"no form {form_code!r} in dictionary version {dictionary.number}"
        raise CaseInvalid([FormError(form_code, 1, "-", missing)])
    if unknown := unknown_fields(dictionary, form_code, values):
        raise CaseInvalid([FormError(form_code, 1, name, _("no such field in this form")) for name in unknown])
    if form_code == "registration":
        check_identity(case.patient, values)
    if form.is_module and (case.entity is None or case.entity.code not in form.entities):
        raise CaseInvalid([FormError(form_code, 1, "-", _("this tumour module does not apply to the case's entity"))])
    numbers = list(case.records.filter(form__code=form_code).values_list("number", flat=True))
    if numbers and not form.repeating:
        raise CaseInvalid(
            [FormError(form_code, 1, "-", _("the case has this form already: change it rather than add another"))]
        )
    # A removed line's number is never given again: an editor still holding it must get a 404 or a 409,
    # not overwrite the line that took its place.
    history = FormRecord.history.filter(case_id=case.pk, form__code=form_code)
    number = max([*numbers, *history.order_by("-number").values_list("number", flat=True)[:1]], default=0) + 1
    context = record_context(case)
    computed = {f.code for f in form.fields if f.computed}
    if given := [name for name in values if name in computed]:
        raise CaseInvalid(
            [FormError(form_code, 1, name, _("computed by the registry: leave it out")) for name in given]
        )
    raw = dict(values)
    result = validate_record(form, raw, context=context, partial=case.status == Status.DRAFT)
    if result.errors:
        raise CaseInvalid([FormError(form_code, number, e.field, e.message) for e in result.errors])
    new_values = dict(result.values)
    compute_fields(form, new_values, context, case.patient.pseudonym)
    record = FormRecord(
        case=case,
        form=FormDefinition.objects.get(version_id=case.dictionary_version_id, code=form_code),
        number=number,
        values=new_values,
    )
    record._history_user = user  # type: ignore[attr-defined]
    record.save()
    record_change(case, user)
    return record


@transaction.atomic
def delete_record(*, case: TumourCase, form_code: str, number: int, version: int, user: Any) -> None:
    """Remove one line or event of a repeating form if `version` is still current; the history keeps it.

    The other instances keep their numbers, so an editor working on one of them is not redirected
    to another record.
    """
    case = open_change(user, case)
    record = (
        FormRecord.objects.select_for_update(of=("self",))
        .select_related("form")
        .get(case=case, form__code=form_code, number=number)
    )
    if not record.form.repeating:
        raise CaseInvalid(
            [FormError(form_code, number, "-", _("only a line or an event of a repeating form can be removed"))]
        )
    if record.version != version:
        raise StaleVersion(record)
    record._history_user = user  # type: ignore[attr-defined]
    record.delete()
    record_change(case, user)


def record_context(case: TumourCase) -> dict[str, Any]:
    """What the conditions of one record may look at: the case's single forms and its classification."""
    context: dict[str, Any] = {
        "case.entity": case.entity.code if case.entity else None,
        "case.iccc_group": case.iccc_group or None,
        "case.iccc_extended": case.iccc_extended or None,
    }
    for record in case.records.select_related("form"):
        if not record.form.repeating:
            context.update({f"{record.form.code}.{k}": v for k, v in record.values.items()})
    return context
