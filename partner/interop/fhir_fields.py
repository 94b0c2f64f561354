"""The fields of the dictionary mCODE has no element for, as Observations coded by the field.

A field Observation's code is the field in the registry's own dictionary (system
`urn:partner:dictionary`, code `<form>.<field>`), its value[x] the value by the field's type, and its
focus the resource of the record it belongs to; a record no other resource stands for is an
Observation coded with its form alone. `FieldWriting` writes them for the export, `FieldReading`
reads them back for the import.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from fhir.resources.R4B.observation import Observation

from partner.dictionary.loader import Dictionary
from partner.dictionary.schema import FieldDef, FormDef

from .fhir_bundle import BundleError, BundleReader, BundleWriter, Record, code_of, day_of
from .fhir_vocabulary import CODE_SYSTEMS, DICTIONARY, ICDO3, UCUM, concept, system_of


def element(form: str, field: str, label: str) -> dict[str, Any]:
    """A field of the dictionary as the code of an Observation with no standard code of its own."""
    return {"coding": [{"system": DICTIONARY, "code": f"{form}.{field}", "display": label}]}


def field_value(dictionary: Dictionary, form: str, f: FieldDef, value: Any) -> dict[str, Any]:
    """One value of a field as the value[x] of its field Observation (a multiple choice: one of its values)."""
    if f.type in ("choice", "multichoice"):
        return {"valueCodeableConcept": concept(dictionary, form, f.code, value)}
    if f.type in ("morphology", "topography"):
        return {"valueCodeableConcept": {"coding": [{"system": ICDO3, "code": value}]}}
    if f.type == "code":
        codings = [{"system": system_of(form, f.code), "code": value}]
        if f.code_system in CODE_SYSTEMS:
            code = value.removeprefix("ORPHA:") if f.code_system == "ORPHA" else value
            codings.append({"system": CODE_SYSTEMS[f.code_system], "code": code})
        return {"valueCodeableConcept": {"coding": codings}}
    if f.type == "boolean":
        return {"valueBoolean": value}
    if f.type == "date":
        return {"valueDateTime": value}
    if f.type == "integer" and not f.unit:
        return {"valueInteger": value}
    if f.type in ("integer", "decimal"):
        quantity: dict[str, Any] = {"value": Decimal(str(value))}
        if f.unit:
            quantity |= {"unit": f.unit, "system": UCUM, "code": f.unit}
        return {"valueQuantity": quantity}
    return {"valueString": str(value)}


class FieldWriting(BundleWriter):
    def other_values(self) -> None:
        """The values no standard element took, as field Observations; records nothing stands for, too."""
        for form in self.dictionary.forms:
            given = self.forms.get(form.code)
            if given is None:
                continue
            for number, values in enumerate(given if form.repeating else [given], start=1):
                fields = [
                    f
                    for f in form.fields
                    if not f.computed and f.code in values and (form.code, number, f.code) not in self.written
                ]
                kept = any(not f.computed and f.code in values for f in form.fields)
                if (form.code, number) not in self.anchors and (form.repeating or not kept):
                    self.record(form, number)
                for f in fields:
                    many = values[f.code] if f.type == "multichoice" else [values[f.code]]
                    for position, value in enumerate(many, start=1):
                        self.field_observation(form, number, f, value, position)

    def record(self, form: FormDef, number: int) -> None:
        """A record no other resource stands for: an Observation coded with its form."""
        key = (form.code, number)
        self.anchors[key] = f"urn:uuid:{self.uuid(*key)}"
        data: dict[str, Any] = {
            "id": self.uuid(*key),
            "status": "final",
            "code": {"coding": [{"system": DICTIONARY, "code": form.code, "display": form.labels.en}]},
            "subject": self.ref("patient"),
        }
        self.add(Observation(**data))

    def field_observation(self, form: FormDef, number: int, f: FieldDef, value: Any, position: int) -> None:
        data: dict[str, Any] = {
            "id": self.uuid(form.code, number, f.code, position),
            "status": "final",
            "code": element(form.code, f.code, f.labels.en),
            "subject": self.ref("patient"),
            **field_value(self.dictionary, form.code, f, value),
        }
        if (form.code, number) in self.anchors:
            data["focus"] = [{"reference": self.anchors[form.code, number]}]
        elif form.is_module or form.code == "diagnosis":
            data["focus"] = [self.ref("condition")]
        self.add(Observation(**data))


#: The value[x] a field Observation may have, by the field's type.
_VALUE_KEYS = {
    "choice": ("valueCodeableConcept",),
    "multichoice": ("valueCodeableConcept",),
    "morphology": ("valueCodeableConcept",),
    "topography": ("valueCodeableConcept",),
    "code": ("valueCodeableConcept",),
    "boolean": ("valueBoolean",),
    "date": ("valueDateTime",),
    "integer": ("valueInteger", "valueQuantity"),
    "decimal": ("valueQuantity", "valueInteger"),
    "text": ("valueString",),
}


class FieldReading(BundleReader):
    def record(self, observation: dict[str, Any], form: str) -> None:
        """An Observation coded with a form: a record, its values given by the field Observations naming it."""
        if self.dictionary.form_by_code[form].repeating:
            self.new_record(form, observation, "code")
        else:
            self.single.setdefault(form, Record(form, self.where(observation, "code")))

    def field_observation(self, observation: dict[str, Any]) -> None:
        """A value of a field with no standard element: its code names the field, its focus the record."""
        code = code_of(observation.get("code"), DICTIONARY) or ""
        form_code, _dot, field_code = code.partition(".")
        form = self.dictionary.form_by_code.get(form_code)
        f = next((f for f in form.fields if f.code == field_code), None) if form else None
        if form is None or f is None:
            raise BundleError(
                _("%(where)s: %(code)r is not a field of the data dictionary (version %(version)s)")
                % {"where": self.where(observation, "code"), "code": code, "version": self.dictionary.number}
            )
        if f.computed:
            raise BundleError(
                _("%(where)s: %(code)s is computed by the registry, never taken from a bundle")
                % {"where": self.where(observation, "code"), "code": code}
            )
        target: Record | str = form_code
        if form.repeating:
            records = [self.record_of.get(id(r)) for r in self.resolve(observation.get("focus"))]
            found = next((r for r in records if r is not None and r.form == form_code), None)
            if found is None:
                raise BundleError(
                    _("%(where)s: %(code)s belongs to a record of %(form)s, and the focus names none in the bundle")
                    % {"where": self.where(observation, "focus"), "code": code, "form": form_code}
                )
            target = found
        value, element = self.value(observation, form_code, f)
        where = self.where(observation, element)
        if f.type == "multichoice":
            record = (
                target if isinstance(target, Record) else self.single.setdefault(form_code, Record(form_code, where))
            )
            self.append(record, f.code, value, where)
            self.covered.add(id(observation))  # the field's source names its first choice's Observation only
        else:
            self.put(target, f.code, value, where, strict=True)

    def coded(self, observation: dict[str, Any], form: str, field: str) -> str:
        """A choice of a field Observation: its value must be one the dictionary can name."""
        value = self.choice(observation.get("valueCodeableConcept"), form, field)
        if value is None:
            raise BundleError(
                _("%(where)s: no coding of %(system)s nor a standard code of one of the field's choices")
                % {"where": self.where(observation, "valueCodeableConcept"), "system": system_of(form, field)}
            )
        return value

    def value(self, observation: dict[str, Any], form: str, f: FieldDef) -> tuple[Any, str]:
        """The value of a field Observation, and the element it is in; the wrong value[x] is refused."""
        allowed = _VALUE_KEYS[f.type]
        key = next((k for k in allowed if k in observation), None)
        if key is None:
            given = next((k for k in observation if k.startswith("value")), "value[x]")
            raise BundleError(
                _("%(where)s: %(form)s.%(field)s, a field of type %(type)s, takes %(allowed)s")
                % {
                    "where": self.where(observation, given),
                    "form": form,
                    "field": f.code,
                    "type": f.type,
                    "allowed": " or ".join(allowed),
                }
            )
        raw = observation[key]
        if f.type in ("choice", "multichoice"):
            return self.coded(observation, form, f.code), key
        if key == "valueCodeableConcept":
            systems = [system_of(form, f.code), ICDO3 if f.type != "code" else CODE_SYSTEMS.get(f.code_system or "")]
            code = next((c for s in systems if s and (c := code_of(raw, s)) is not None), None)
            if code is None:
                raise BundleError(
                    _("%(where)s: no coding of %(systems)s")
                    % {"where": self.where(observation, key), "systems": " nor ".join(s for s in systems if s)}
                )
            if f.code_system == "ORPHA" and code.isdigit():
                code = f"ORPHA:{code}"
            return code, key
        if key == "valueQuantity":
            unit = raw.get("code", raw.get("unit"))
            if unit is not None and f.unit and unit != f.unit:
                raise BundleError(
                    _("%(where)s: %(unit)s, where %(form)s.%(field)s is in %(expected)s")
                    % {
                        "where": self.where(observation, "valueQuantity.code"),
                        "unit": unit,
                        "form": form,
                        "field": f.code,
                        "expected": f.unit,
                    }
                )
            raw = raw.get("value")
            if raw is None:
                raise BundleError(_("%(where)s: no value") % {"where": self.where(observation, "valueQuantity.value")})
        if f.type == "integer" and isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if f.type == "date":
            raw = day_of(raw)
        return raw, key
