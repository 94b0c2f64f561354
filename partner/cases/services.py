"""Creating cases from form values: one validator, one transaction, nothing half-written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from partner.accounts.models import Centre, Country
from partner.dictionary.classify import Classification
from partner.dictionary.loader import Dictionary
from partner.dictionary.models import DictionaryVersion, EntityDefinition, FormDefinition
from partner.lib.bulk import insert_with_history
from partner.lib.pseudonym import Identity

from .guard import check_identity, check_registration
from .models import FormRecord, Patient, Status, TumourCase
from .signals import case_changed
from .validation import CaseInvalid, FormError, FormValues, age_in_years, validate_case


@dataclass(frozen=True)
class NewCase:
    """A case that passed every check `create_case` makes, with what it stores worked out; nothing written yet."""

    centre: Centre
    pseudonym: str
    status: str
    external_id: str
    country: Country | None
    cleaned: dict[str, list[dict[str, Any]]]
    born: dt.date
    sex: str
    diagnosed: dt.date
    classification: Classification


def check_new_case(
    *,
    dictionary: Dictionary,
    centre: Centre,
    pseudonym: str,
    forms: Mapping[str, FormValues],
    country: Country | None = None,
    status: str = Status.DRAFT,
    external_id: str = "",
) -> NewCase:
    """Validate and classify a new case as `create_case` does, without the database; CaseInvalid lists every error."""
    cleaned, errors = validate_case(dictionary, forms, partial=status == Status.DRAFT, pseudonym=pseudonym)
    registration = (cleaned.get("registration") or [{}])[0]
    diagnosis = (cleaned.get("diagnosis") or [{}])[0]
    for form_code, field in (
        ("registration", "date_of_birth"),
        ("registration", "sex"),
        ("diagnosis", "diagnosis_date"),
        ("diagnosis", "morphology"),
        ("diagnosis", "topography"),
    ):
        source = registration if form_code == "registration" else diagnosis
        if field not in source and not any(e.form == form_code and e.field == field for e in errors):
            errors.append(FormError(form_code, 1, field, _("required to register a case")))
    if errors:
        raise CaseInvalid(errors)
    born = dt.date.fromisoformat(registration["date_of_birth"])
    diagnosed = dt.date.fromisoformat(diagnosis["diagnosis_date"])
    if diagnosed < born:
        raise CaseInvalid(
            [
                FormError(
                    "diagnosis",
                    1,
                    "diagnosis_date",
                    _("%(date)s is before the date of birth %(born)s") % {"date": diagnosed, "born": born},
                )
            ]
        )
    classification = dictionary.classifier.classify(
        diagnosis["morphology"], diagnosis["topography"], age_in_years(born, diagnosed)
    )
    return NewCase(
        centre=centre,
        pseudonym=pseudonym,
        status=status,
        external_id=external_id,
        country=country,
        cleaned=cleaned,
        born=born,
        sex=registration["sex"],
        diagnosed=diagnosed,
        classification=classification,
    )


@transaction.atomic
def create_case(
    *,
    dictionary: Dictionary,
    centre: Centre,
    pseudonym: str,
    forms: Mapping[str, FormValues],
    country: Country | None = None,
    status: str = Status.DRAFT,
    external_id: str = "",
    user: Any = None,
    identity: Identity | None = None,
    encoder: Any = None,
) -> TumourCase:
    """Register a case (and its patient, when new) from the values of its forms.

    With the `identity` the pseudonym was derived from, the patient's linkage encoding is kept too
    (the identity itself is not), so that the same child registered elsewhere can be found. A bulk
    job passes one linkage `encoder` for all its cases.
    """
    check_registration(user, centre)
    new = check_new_case(
        dictionary=dictionary,
        centre=centre,
        pseudonym=pseudonym,
        forms=forms,
        country=country,
        status=status,
        external_id=external_id,
    )
    # Only the keys: the stored definitions are large JSON, read from the dictionary cache instead.
    version = DictionaryVersion.objects.only("id", "number").get(number=dictionary.number)
    author = user if user is not None and user.is_authenticated else None
    patient = _patient_of(new, author)
    if identity is not None:
        from partner.linkage.services import store_encoding  # linkage builds on cases, not the reverse

        store_encoding(patient, identity, encoder)
    code = new.classification.entity
    entity = EntityDefinition.objects.only("id", "code").get(version=version, code=code) if code else None
    case = _new_case(new, patient, version, entity)
    if author is not None:
        case._history_user = author  # type: ignore[attr-defined]
    case.save()
    rows = {f.code: f for f in FormDefinition.objects.filter(version=version).only("id", "code")}
    bulk_create_with_history(_new_records(new, case, rows), FormRecord, default_user=author)
    case_changed.send(sender=TumourCase, case=case, user=author)
    return case


def create_cases(dictionary: Dictionary, new: Sequence[NewCase], *, user: Any = None) -> list[TumourCase]:
    """Store cases checked by `check_new_case` as `create_case` stores each in turn, with bulk inserts.

    The same rows as one `create_case` after another: a patient for each pseudonym not yet known
    (the first of its cases gives its sex, date of birth and country), the cases and their form
    records, each with its history row by the same user, and `case_changed` for every case, in
    order. An import stores thousands of cases, and a save per object is most of its time; they are
    written by `partner.lib.bulk`, one prepared statement per table. The
    linkage encodings are the caller's (`partner.linkage.services.store_encodings`): the
    identities never come here. Returns the cases, in the order given.
    """
    if not new:
        return []
    for centre in {n.centre.pk: n.centre for n in new}.values():
        check_registration(user, centre)
    version = DictionaryVersion.objects.only("id", "number").get(number=dictionary.number)
    author = user if user is not None and user.is_authenticated else None
    patients = {p.pseudonym: p for p in Patient.objects.filter(pseudonym__in={n.pseudonym for n in new})}
    created: list[Patient] = []
    for n in new:
        if n.pseudonym not in patients:
            patients[n.pseudonym] = _new_patient(n)
            created.append(patients[n.pseudonym])
    if created:
        insert_with_history(created, Patient, user=author)
    entities = {e.code: e for e in EntityDefinition.objects.filter(version=version).only("id", "code")}
    cases = [
        _new_case(
            n, patients[n.pseudonym], version, entities[n.classification.entity] if n.classification.entity else None
        )
        for n in new
    ]
    insert_with_history(cases, TumourCase, user=author)
    rows = {f.code: f for f in FormDefinition.objects.filter(version=version).only("id", "code")}
    records = [record for n, case in zip(new, cases, strict=True) for record in _new_records(n, case, rows)]
    insert_with_history(records, FormRecord, user=author)
    for case in cases:
        case_changed.send(sender=TumourCase, case=case, user=author)
    return cases


def _patient_of(new: NewCase, author: Any) -> Patient:
    """The patient of the case's pseudonym, found or created; its identity must agree with the case's.

    Two registrations of one child at the same moment both end with the one patient: the second
    insert waits on the pseudonym's unique index for the first transaction, fails, and reads the
    patient the first one committed.
    """
    patient = Patient.objects.filter(pseudonym=new.pseudonym).first()
    if patient is None:
        patient = _new_patient(new)
        if author is not None:
            patient._history_user = author  # type: ignore[attr-defined]
        try:
            with transaction.atomic():
                patient.save()
            return patient
        except IntegrityError:
            patient = Patient.objects.get(pseudonym=new.pseudonym)
    check_identity(patient, new.cleaned.get("registration", [{}])[0])
    return patient


def _new_patient(new: NewCase) -> Patient:
    return Patient(
        pseudonym=new.pseudonym,
        sex=new.sex,
        date_of_birth=new.born,
        country=new.country or new.centre.country,
        centre=new.centre,
    )


def _new_case(
    new: NewCase, patient: Patient, version: DictionaryVersion, entity: EntityDefinition | None
) -> TumourCase:
    classification = new.classification
    return TumourCase(
        patient=patient,
        centre=new.centre,
        dictionary_version=version,
        entity=entity,
        morphology=classification.morphology,
        topography=classification.topography,
        iccc_group=classification.iccc_group or "",
        iccc_extended=classification.iccc_extended or "",
        diagnosis_date=new.diagnosed,
        status=new.status,
        external_id=new.external_id,
    )


def _new_records(new: NewCase, case: TumourCase, forms: dict[str, FormDefinition]) -> list[FormRecord]:
    return [
        FormRecord(case=case, form=forms[code], number=i, values=values)
        for code, instances in new.cleaned.items()
        for i, values in enumerate(instances, start=1)
    ]


def classify_columns(dictionary: Dictionary, case: TumourCase, diagnosis: Mapping[str, Any], born: dt.date) -> None:
    """Set the case's coded columns (codes, ICCC-3, entity, date) from its diagnosis form."""
    diagnosed = dt.date.fromisoformat(diagnosis["diagnosis_date"])
    result = dictionary.classifier.classify(
        diagnosis["morphology"], diagnosis["topography"], age_in_years(born, diagnosed)
    )
    case.morphology = result.morphology
    case.topography = result.topography
    case.iccc_group = result.iccc_group or ""
    case.iccc_extended = result.iccc_extended or ""
    case.diagnosis_date = diagnosed
    case.entity = (
        EntityDefinition.objects.only("id", "code").get(version=case.dictionary_version, code=result.entity)
        if result.entity
        else None
    )


def current_forms(dictionary: Dictionary, case: TumourCase) -> dict[str, Any]:
    """The case's records as the `forms` argument of `validate_case`, computed fields left out."""
    computed = {f.code for form in dictionary.forms for f in form.fields if f.computed}
    forms: dict[str, Any] = {}
    for record in case.records.select_related("form").order_by("form__position", "number"):
        values = {k: v for k, v in record.values.items() if k not in computed}
        if record.form.repeating:
            forms.setdefault(record.form.code, []).append(values)
        else:
            forms[record.form.code] = values
    return forms


def record_change(case: TumourCase, user: Any) -> None:
    """Save the case after a change to its records: a validated case goes back to submitted."""
    if case.status == Status.VALIDATED:
        # The coordinator vouched for the case as it was: changed values need their eyes again.
        case.status = Status.SUBMITTED
    case._history_user = user  # type: ignore[attr-defined]
    case.save()
    case_changed.send(sender=TumourCase, case=case, user=user)
