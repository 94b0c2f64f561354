"""A case's forms checked together: each record through the dictionary's validator, the fields
computed from others (the pseudonym, the ages), and the classification that decides which tumour
module applies. Nothing here touches the database; partner.cases.services stores what passes."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

from partner.dictionary.loader import Dictionary
from partner.dictionary.schema import FormDef
from partner.dictionary.validation import validate_record
from partner.lib.dates import PartialDate

FormValues = Mapping[str, Any] | Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class FormError:
    form: str
    instance: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.form}[{self.instance}]" if self.instance > 1 else self.form
        return f"{where}.{self.field}: {self.message}"


#: The registration fields the pseudonym is derived from: typed once, fixed with the patient afterwards.
PATIENT_FIELDS = ("date_of_birth", "sex")


class CaseInvalid(Exception):
    def __init__(self, errors: list[FormError]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


def age_in_years(born: dt.date, on: dt.date) -> float:
    """Completed years and the fraction since the last birthday, as registries compute age."""
    years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    last = _anniversary(born, born.year + years)
    following = _anniversary(born, born.year + years + 1)
    # Floored, not rounded: a child the day before a birthday has not reached that age.
    return math.floor(100 * (years + (on - last).days / (following - last).days)) / 100


def _anniversary(born: dt.date, year: int) -> dt.date:
    try:
        return born.replace(year=year)
    except ValueError:  # born on 29 February
        return dt.date(year, 3, 1)


def _instances(form: FormDef, given: FormValues | None) -> list[Mapping[str, Any]]:
    if given is None:
        return []
    if isinstance(given, Mapping):
        return [given]
    if not form.repeating:
        raise CaseInvalid([FormError(form.code, 1, "-", "this form is not repeating: give one set of values")])
    return list(given)


def compute_fields(form: FormDef, values: dict[str, Any], context: dict[str, Any], pseudonym: str) -> None:
    """Fill in the form's computed fields: the pseudonym, and the ages from the date of birth in `context`."""
    born = context.get("registration.date_of_birth")
    for f in form.fields:
        if f.computed == "pseudonym":
            values[f.code] = pseudonym
        elif f.computed in ("age_at_diagnosis_years", "age_at_onset_years") and born:
            source = "diagnosis_date" if f.computed == "age_at_diagnosis_years" else "onset_date"
            when = values.get(source)
            if when:
                # A month or a year of onset gives the age at its middle, kept between birth and diagnosis.
                birth = dt.date.fromisoformat(born)
                diagnosed = values.get("diagnosis_date") if source != "diagnosis_date" else None
                upper = PartialDate.parse(diagnosed).latest if diagnosed else None
                values[f.code] = age_in_years(birth, PartialDate.parse(when).midpoint(birth, upper))


def validate_case(
    dictionary: Dictionary, forms: Mapping[str, FormValues], *, partial: bool = False, pseudonym: str = ""
) -> tuple[dict[str, list[dict[str, Any]]], list[FormError]]:
    """Validate every form of a case; returns cleaned values by form and all errors found."""
    errors: list[FormError] = []
    for code in forms:
        if code not in dictionary.form_by_code:
            errors.append(FormError(code, 1, "-", f"no form {code!r} in dictionary version {dictionary.number}"))
    cleaned: dict[str, list[dict[str, Any]]] = {}
    context: dict[str, Any] = {}
    entity_code: str | None = None
    for form in dictionary.forms:
        if form.is_module and (entity_code is None or entity_code not in form.entities):
            if form.code in forms:
                errors.append(FormError(form.code, 1, "-", _("this tumour module does not apply to the case's entity")))
            continue
        try:
            instances = _instances(form, forms.get(form.code))
        except CaseInvalid as exc:
            errors.extend(exc.errors)
            continue
        out = []
        for number, raw in enumerate(instances, start=1):
            result = validate_record(form, raw, context=context, partial=partial)
            errors.extend(FormError(form.code, number, e.field, e.message) for e in result.errors)
            values = dict(result.values)
            compute_fields(form, values, context, pseudonym)
            out.append(values)
        if not form.repeating and out:
            context.update({f"{form.code}.{k}": v for k, v in out[0].items()})
        cleaned[form.code] = out
        if form.code == "diagnosis" and out:
            born = context.get("registration.date_of_birth")
            before_birth = [
                key
                for key in ("onset_date", "diagnosis_date")
                if born and out[0].get(key) and PartialDate.parse(out[0][key]).certainly_before(PartialDate.parse(born))
            ]
            for key in before_birth:
                errors.append(
                    FormError(
                        "diagnosis",
                        1,
                        key,
                        _("%(date)s is before the date of birth %(born)s") % {"date": out[0][key], "born": born},
                    )
                )
            # Dates before birth give no age; the codes still decide the entity (and its module).
            entity_code = _classify(dictionary, out[0], context, with_age=not before_birth)
    return cleaned, errors


def _classify(
    dictionary: Dictionary, diagnosis: dict[str, Any], context: dict[str, Any], *, with_age: bool = True
) -> str | None:
    if not (diagnosis.get("morphology") and diagnosis.get("topography")):
        return None
    result = dictionary.classifier.classify(
        diagnosis["morphology"], diagnosis["topography"], diagnosis.get("age_at_diagnosis") if with_age else None
    )
    context["case.entity"] = result.entity
    context["case.iccc_group"] = result.iccc_group
    context["case.iccc_extended"] = result.iccc_extended
    return result.entity
