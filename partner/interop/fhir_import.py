"""A FHIR R4 Bundle (mCODE STU4) read back into the forms of a case, and imported as a new case.

The reading mirrors fhir_export: a value coded in the registry's own system comes back as it left;
from other senders, the standard codes the dictionary lists for a choice (SNOMED CT, ATC) are
recognised, and what cannot be read is left out for the data manager to complete. A field
Observation (code system `urn:partner:dictionary`) names its field by its code, and the treatment
line or follow-up event it belongs to by its focus; one naming no field of the dictionary, or no
record of the bundle, or giving its value as the wrong value[x] or in another unit, is refused, as is
a field given two different values. Every error names the resource (its fullUrl, else its id) and
the element; so does a value the dictionary refuses (`CaseInvalid`, from `create_case`).

A case exported and imported into an empty registry comes back with the same form records: every
value of the common dataset (registration, diagnosis and staging, treatment lines, follow-up events,
status, consent) and of the tumour modules, and the same patient. Not carried:

- names and any other identifying data: the registry never holds them. The patient is known by the
  pseudonym alone, so a patient new to the importing registry has no linkage encoding (that needs
  the identity); the patient's country is the importing centre's.
- what is not a form record: the case's workflow status (the import sets the one it is given, draft
  by default), its centre (the import's), history and authors, quality findings and queries,
  consultations, the access log, a recorded consent withdrawal (the consent form's answers are
  carried). A case with no identifier at the source goes out with its number in the registry as
  identifier, which the imported case keeps as its identifier at the source.
- the numbers of the records: the lines and events are numbered 1, 2, ... in the bundle's order, so
  the gap a removed line left is closed.
- the dictionary version: the records are stamped with the importing registry's version in force,
  whose fields must include those of the bundle.
- computed fields (the registration's pseudonym, the ages at onset and at diagnosis) are not written:
  they are computed again from the carried dates, and so come back equal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from partner.accounts.models import Centre
from partner.cases.models import Status, TumourCase
from partner.cases.services import CaseInvalid, FormError, create_case
from partner.dictionary.loader import Dictionary, get_dictionary
from partner.dictionary.schema import FieldDef

from .fhir_export import (
    ASSERTED_DATE_EXT,
    CASE_IDENTIFIER,
    CODE_SYSTEMS,
    CONCEPT_SYSTEMS,
    DATA_ABSENT_EXT,
    DICTIONARY,
    DISEASE_STATUS_CODE,
    DISEASE_STATUS_PROFILE,
    DOSE_EXT,
    HISTOLOGY_EXT,
    ICDO3,
    INTENT_EXT,
    LATERALITY_EXT,
    LOINC,
    MEDICATION_FIELDS,
    MODALITY_EXT,
    MODALITY_TECHNIQUE_EXT,
    PRIMARY_PROFILE,
    PSEUDONYM,
    RADIOTHERAPY_CATEGORY,
    RADIOTHERAPY_PROFILE,
    RT_MODALITY,
    SNOMED,
    STAGE_CODES,
    SURGERY_CATEGORY,
    SURGERY_PROFILE,
    TNM_CODES,
    TNM_SYSTEMS,
    field_def,
    system_of,
)

#: Bundle.type, a required binding in R4 that the models do not check.
BUNDLE_TYPES = {
    *("document", "message", "transaction", "transaction-response", "batch", "batch-response"),
    *("history", "searchset", "collection"),
}
_STAGE_BASIS = {code: basis for basis, code in STAGE_CODES.items()}
_TNM_CATEGORY = {
    code: (field, basis) for field, (_profile, codes) in TNM_CODES.items() for basis, code in codes.items()
}
_AGENT_FIELDS = ("chemo_agents", "targeted_agent")
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


class BundleError(ValueError):
    """The bundle is not valid FHIR, or not one the registry can take as a case."""


def parse_bundle(bundle: Any) -> dict[str, Any]:
    """The bundle validated as FHIR R4 and normalised; a `BundleError` names the first problem."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle":
        raise BundleError(_("not a FHIR Bundle: a JSON object with resourceType Bundle is expected"))
    if bundle.get("type") not in BUNDLE_TYPES:
        raise BundleError(_("Bundle.type %(type)r is not a FHIR bundle type") % {"type": bundle.get("type")})
    for number, entry in enumerate(bundle.get("entry") or []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if resource is None:
            continue  # the models report what else is wrong with the entry
        kind = resource.get("resourceType") if isinstance(resource, dict) else None
        try:
            get_fhir_model_class(str(kind))
        except ValueError:
            raise BundleError(
                _("entry[%(n)d].resource%(url)s: %(kind)r is not a FHIR R4 resource type")
                % {"n": number, "url": _full_url(entry), "kind": kind}
            ) from None
    try:
        parsed = Bundle.model_validate(bundle)
    except ValidationError as exc:
        raise BundleError(_describe(bundle, exc)) from None
    return parsed.model_dump(mode="json", exclude_none=True)


def _full_url(entry: dict[str, Any]) -> str:
    return f" ({entry['fullUrl']})" if isinstance(entry.get("fullUrl"), str) else ""


def _describe(bundle: dict[str, Any], exc: ValidationError) -> str:
    error = exc.errors()[0]
    loc = error["loc"]
    path = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")
    if len(loc) > 2 and loc[0] == "entry" and isinstance(loc[1], int) and loc[2] == "resource":
        entry = bundle["entry"][loc[1]]
        resource = entry["resource"]
        if isinstance(resource, dict):
            url = entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else resource.get("id")
            path += f" ({' '.join(str(p) for p in (resource.get('resourceType'), url) if p)})"
    message = str(error["msg"]).split("\n")[0]
    return _("not valid FHIR R4: %(path)s: %(message)s") % {"path": path or "Bundle", "message": message}


def bundle_to_forms(
    bundle: dict[str, Any], dictionary: Dictionary | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The case fields (pseudonym, external_id) and the form values a bundle gives.

    The forms have the shape `create_case(forms=...)` takes. A Patient without the registry's
    pseudonym identifier is refused: the registry never receives names, only the pseudonym derived
    from them at the centre.
    """
    reading = _read(bundle, dictionary or get_dictionary())
    return reading.case_fields, reading.forms


def import_bundle(
    bundle: dict[str, Any], *, centre: Centre, user: Any = None, status: str = Status.DRAFT
) -> TumourCase:
    """Register the bundle's case at `centre`, in one transaction; a second import of the same case there is refused.

    `CaseInvalid` from `create_case` propagates, each error naming form, row and field, and the
    resource and element of the bundle the value came from.
    """
    dictionary = get_dictionary()
    reading = _read(bundle, dictionary)
    external_id = reading.case_fields["external_id"]
    with transaction.atomic():
        if external_id and TumourCase.objects.filter(centre=centre, external_id=external_id).exists():
            raise BundleError(
                _("%(centre)s already has a case with the identifier %(id)s: this bundle was imported before")
                % {"centre": centre.code, "id": external_id}
            )
        try:
            return create_case(
                dictionary=dictionary,
                centre=centre,
                pseudonym=reading.case_fields["pseudonym"],
                forms=reading.forms,
                status=status,
                external_id=external_id,
                user=user,
            )
        except CaseInvalid as exc:
            raise CaseInvalid([reading.locate(e) for e in exc.errors]) from None


def _read(bundle: Any, dictionary: Dictionary) -> _Reading:
    return _Reader(parse_bundle(bundle), dictionary).read()


def _codings(concept: dict[str, Any] | None) -> list[dict[str, Any]]:
    return (concept or {}).get("coding", [])


def _code(concept: dict[str, Any] | None, system: str) -> str | None:
    return next((c.get("code") for c in _codings(concept) if c.get("system") == system), None)


def _extension(element: dict[str, Any], url: str) -> dict[str, Any]:
    return next((e for e in element.get("extension", []) if e.get("url") == url), {})


def _day(value: Any) -> Any:
    """A FHIR date or dateTime as the registry's date; a partial date goes on for validation to report."""
    return value[:10] if isinstance(value, str) and len(value) >= 10 else value


def _profiles(resource: dict[str, Any]) -> list[str]:
    return resource.get("meta", {}).get("profile", [])


@dataclass
class _Record:
    """One form record read from the bundle: its values, and where in the bundle each came from."""

    form: str
    source: str
    values: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)


@dataclass
class _Reading:
    case_fields: dict[str, Any]
    forms: dict[str, Any]
    records: dict[tuple[str, int], _Record]

    def locate(self, error: FormError) -> FormError:
        """The error with the resource and element of the bundle its value came from."""
        record = self.records.get((error.form, error.instance))
        if record is None:
            return error
        source = record.sources.get(error.field, record.source)
        return FormError(error.form, error.instance, error.field, f"{error.message} (from {source})")


class _Reader:
    def __init__(self, data: dict[str, Any], dictionary: Dictionary):
        self.data = data
        self.dictionary = dictionary
        self.labels: dict[int, str] = {}
        self.resources: list[dict[str, Any]] = []
        self.by_reference: dict[str, dict[str, Any]] = {}
        for number, entry in enumerate(data.get("entry", [])):
            resource = entry.get("resource")
            if resource is None:
                continue
            self.resources.append(resource)
            typed = f"{resource['resourceType']}/{resource['id']}" if resource.get("id") else None
            self.labels[id(resource)] = entry.get("fullUrl") or typed or f"entry[{number}]"
            if entry.get("fullUrl"):
                self.by_reference[entry["fullUrl"]] = resource
            if typed:
                self.by_reference[typed] = resource
        self.single: dict[str, _Record] = {}
        self.repeated: dict[str, list[_Record]] = {}
        #: id() of a resource that is a record of a repeating form (a line, an event) -> the record.
        self.record_of: dict[int, _Record] = {}
        self.field_observations: list[dict[str, Any]] = []
        self.assessments: list[_Record] = []

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [r for r in self.resources if r["resourceType"] == kind]

    def where(self, resource: dict[str, Any], element: str) -> str:
        return f"{resource['resourceType']} {self.labels[id(resource)]}: {element}"

    def resolve(self, references: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
        found = (self.by_reference.get(r.get("reference", "")) for r in references or [])
        return [r for r in found if r is not None]

    def new_record(self, form: str, resource: dict[str, Any], element: str) -> _Record:
        record = _Record(form, self.where(resource, element))
        self.repeated.setdefault(form, []).append(record)
        self.record_of[id(resource)] = record
        return record

    def put(
        self, target: _Record | str, name: str, value: Any, where: str, *, strict: bool = False, keep: bool = False
    ) -> None:
        """Set a field of a record (a single form's by its code); a value of None leaves it as it is.

        A standard element read later replaces one read earlier (a sender may give a clinical and a
        pathological stage; `keep` keeps the first instead); a field Observation (`strict`) must agree
        with what the bundle gave the field elsewhere.
        """
        if value is None:
            return
        record = target if isinstance(target, _Record) else self.single.setdefault(target, _Record(target, where))
        if name in record.values:
            if keep:
                return
            if strict and record.values[name] != value:
                raise BundleError(
                    _("%(where)s: %(form)s.%(field)s is given as %(value)r here and as %(other)r in %(source)s")
                    % {
                        "where": where,
                        "form": record.form,
                        "field": name,
                        "value": value,
                        "other": record.values[name],
                        "source": record.sources.get(name, record.source),
                    }
                )
        record.values[name] = value
        record.sources[name] = where

    def append(self, record: _Record, name: str, value: Any, where: str) -> None:
        """One value of a multiple choice."""
        values = record.values.setdefault(name, [])
        record.sources.setdefault(name, where)
        if value not in values:
            values.append(value)

    def choice(self, concept: dict[str, Any] | None, form: str, field: str) -> str | None:
        """The dictionary's code for a coded value: the registry's coding, else a standard code it lists."""
        own = _code(concept, system_of(form, field))
        if own is not None:
            return own
        for coding in _codings(concept):
            for choice in field_def(self.dictionary, form, field).choices:
                if any(
                    CONCEPT_SYSTEMS.get(k) == coding.get("system") and v == coding.get("code")
                    for k, v in choice.concepts.items()
                ):
                    return choice.code
        return None

    def read(self) -> _Reading:
        patients = self.of_type("Patient")
        if len(patients) != 1:
            raise BundleError(
                _("a case's bundle holds one Patient, this one holds %(n)d%(which)s")
                % {"n": len(patients), "which": "".join(f"; {self.labels[id(p)]}" for p in patients)}
            )
        patient = patients[0]
        pseudonym = next((i.get("value") for i in patient.get("identifier", []) if i.get("system") == PSEUDONYM), None)
        if not pseudonym:
            raise BundleError(
                _(
                    "%(where)s: the Patient has no pseudonym (an identifier with system %(system)s): the registry "
                    "never receives names, only the pseudonym derived from them at the centre"
                )
                % {"where": self.where(patient, "identifier"), "system": PSEUDONYM}
            )
        if len(pseudonym) > 64:
            raise BundleError(
                _("%(where)s: the pseudonym is longer than 64 characters")
                % {"where": self.where(patient, "identifier")}
            )
        condition = self.primary_condition()
        identifiers = sorted(condition.get("identifier", []), key=lambda i: i.get("system") != CASE_IDENTIFIER)
        identifiers += [i for i in patient.get("identifier", []) if i.get("system") != PSEUDONYM]
        external_id = next((i["value"] for i in identifiers if i.get("value")), self.data.get("id", ""))
        if len(external_id) > 64:
            raise BundleError(
                _("%(where)s: the case's identifier is longer than 64 characters")
                % {"where": self.where(condition, "identifier")}
            )
        self.registration(patient)
        self.diagnosis(condition)
        self.observations(condition)
        self.treatment()
        self.vital_status(patient)
        for observation in self.field_observations:
            self.field_observation(observation)
        for event in self.assessments:  # the type a disease status implies, unless the bundle gave another
            self.put(event, "event_type", "response_assessment", event.source, keep=True)
        return self.reading({"pseudonym": pseudonym, "external_id": external_id})

    def reading(self, case_fields: dict[str, Any]) -> _Reading:
        forms: dict[str, Any] = {}
        records: dict[tuple[str, int], _Record] = {}
        for code, record in self.single.items():
            forms[code] = record.values
            records[code, 1] = record
        for code, instances in self.repeated.items():
            forms[code] = [r.values for r in instances]
            records.update({(code, number): r for number, r in enumerate(instances, start=1)})
        return _Reading(case_fields, forms, records)

    def primary_condition(self) -> dict[str, Any]:
        conditions = self.of_type("Condition")
        primary = [c for c in conditions if PRIMARY_PROFILE in _profiles(c)] or [
            c for c in conditions if _extension(c, HISTOLOGY_EXT) or "/" in (_code(c.get("code"), ICDO3) or "")
        ]
        if not primary:
            raise BundleError(_("the bundle holds no primary cancer Condition (ICD-O-3 morphology and topography)"))
        if len(primary) > 1:
            raise BundleError(
                _("the bundle holds %(n)d primary cancer conditions: one case is one tumour%(which)s")
                % {"n": len(primary), "which": "".join(f"; {self.labels[id(c)]}" for c in primary)}
            )
        return primary[0]

    def registration(self, patient: dict[str, Any]) -> None:
        gender = patient.get("gender")
        sex = next(
            (
                c.code
                for c in field_def(self.dictionary, "registration", "sex").choices
                if c.concepts.get("hl7", c.code) == gender
            ),
            gender,
        )
        country = next((a.get("country") for a in patient.get("address", []) if a.get("country")), None)
        self.put("registration", "date_of_birth", patient.get("birthDate"), self.where(patient, "birthDate"))
        self.put("registration", "sex", sex, self.where(patient, "gender"))
        self.put("registration", "country_of_residence", country, self.where(patient, "address.country"))

    def diagnosis(self, condition: dict[str, Any]) -> None:
        where = self.where
        asserted = _extension(condition, ASSERTED_DATE_EXT).get("valueDateTime")
        histology = _code(_extension(condition, HISTOLOGY_EXT).get("valueCodeableConcept"), ICDO3)
        site = (condition.get("bodySite") or [{}])[0]
        evidence = [c for e in condition.get("evidence", []) for c in e.get("code", [])]
        laterality = _extension(site, LATERALITY_EXT).get("valueCodeableConcept")
        self.put("diagnosis", "onset_date", _day(condition.get("onsetDateTime")), where(condition, "onsetDateTime"))
        for value, element in (
            (asserted, "extension:assertedDate"),
            (condition.get("recordedDate"), "recordedDate"),
            (condition.get("onsetDateTime"), "onsetDateTime"),
        ):
            if value:
                self.put("diagnosis", "diagnosis_date", _day(value), where(condition, element))
                break
        if histology:
            self.put("diagnosis", "morphology", histology, where(condition, "extension:histologyMorphologyBehavior"))
        else:
            self.put("diagnosis", "morphology", _code(condition.get("code"), ICDO3), where(condition, "code"))
        self.put("diagnosis", "topography", _code(site, ICDO3), where(condition, "bodySite"))
        if laterality:
            value = self.choice(laterality, "diagnosis", "laterality")
            self.put("diagnosis", "laterality", value, where(condition, "bodySite.extension:lateralityQualifier"))
        if evidence:
            value = self.choice(evidence[0], "diagnosis", "basis_of_diagnosis")
            self.put("diagnosis", "basis_of_diagnosis", value, where(condition, "evidence.code"))

    def is_about(self, observation: dict[str, Any], condition: dict[str, Any]) -> bool:
        """No focus, or the tumour's Condition: the Observation is not a value of another resource's record."""
        return all(r is condition for r in self.resolve(observation.get("focus")))

    def observations(self, condition: dict[str, Any]) -> None:
        """The Observations of standard elements, and those that are a record; field Observations wait."""
        last_status = system_of("status", "last_disease_status")
        for observation in self.of_type("Observation"):
            own = _code(observation.get("code"), DICTIONARY)
            loinc = _code(observation.get("code"), LOINC)
            value = observation.get("valueCodeableConcept")
            when = _day(observation.get("effectiveDateTime"))
            if own == "status.patient_status":
                self.patient_status(observation, value, when)
            elif own in self.dictionary.form_by_code:
                self.record(observation, own)
            elif own == "follow_up.event_type" and self.is_about(observation, condition):
                event = self.new_record("follow_up", observation, "code")
                if value is not None:
                    where = self.where(observation, "valueCodeableConcept")
                    self.put(event, "event_type", self.coded(observation, "follow_up", "event_type"), where)
                self.put(event, "event_date", when, self.where(observation, "effectiveDateTime"))
            elif own is not None:
                self.field_observations.append(observation)
            elif loinc == DISEASE_STATUS_CODE or DISEASE_STATUS_PROFILE in _profiles(observation):
                if _code(value, last_status) is not None:
                    where = self.where(observation, "valueCodeableConcept")
                    self.put("status", "last_disease_status", _code(value, last_status), where)
                    continue
                disease_status = self.choice(value, "follow_up", "disease_status")
                if disease_status is not None:  # a status the dictionary has no code for is left out
                    event = self.new_record("follow_up", observation, "code")
                    self.put(event, "event_date", when, self.where(observation, "effectiveDateTime"))
                    where = self.where(observation, "valueCodeableConcept")
                    self.put(event, "disease_status", disease_status, where)
                    self.assessments.append(event)
            elif loinc in _STAGE_BASIS:
                system = self.choice(observation.get("method"), "diagnosis", "stage_system")
                group = (value or {}).get("text") or next((c.get("code") for c in _codings(value)), None)
                self.put("diagnosis", "stage_system", system, self.where(observation, "method"))
                self.put("diagnosis", "stage_group", group, self.where(observation, "valueCodeableConcept"))
                if system in TNM_SYSTEMS and _STAGE_BASIS[loinc]:
                    self.put("diagnosis", "tnm_basis", _STAGE_BASIS[loinc], self.where(observation, "code"))
            elif loinc in _TNM_CATEGORY:
                field, basis = _TNM_CATEGORY[loinc]
                category = self.choice(value, "diagnosis", field) or next(
                    (c.get("code") for c in _codings(value)), None
                )
                self.put("diagnosis", field, category, self.where(observation, "valueCodeableConcept"))
                self.put("diagnosis", "tnm_basis", basis, self.where(observation, "code"), keep=True)

    def patient_status(self, observation: dict[str, Any], value: dict[str, Any] | None, when: Any) -> None:
        cause = next(
            (
                c.get("valueCodeableConcept")
                for c in observation.get("component", [])
                if _code(c.get("code"), DICTIONARY) == "status.cause_of_death"
            ),
            None,
        )
        where = self.where
        self.put(
            "status", "patient_status", self.choice(value, "status", "patient_status"), where(observation, "value")
        )
        self.put("status", "last_contact_date", when, where(observation, "effectiveDateTime"))
        if cause:
            cause_of_death = self.choice(cause, "status", "cause_of_death")
            self.put("status", "cause_of_death", cause_of_death, where(observation, "component:cause_of_death"))

    def record(self, observation: dict[str, Any], form: str) -> None:
        """An Observation coded with a form: a record, its values given by the field Observations naming it."""
        if self.dictionary.form_by_code[form].repeating:
            self.new_record(form, observation, "code")
        else:
            self.single.setdefault(form, _Record(form, self.where(observation, "code")))

    def vital_status(self, patient: dict[str, Any]) -> None:
        if "deceasedDateTime" in patient:
            self.put("status", "patient_status", "dead", self.where(patient, "deceasedDateTime"), keep=True)
            self.put(
                "status", "date_of_death", _day(patient["deceasedDateTime"]), self.where(patient, "deceasedDateTime")
            )
        elif "deceasedBoolean" in patient:
            alive = "dead" if patient["deceasedBoolean"] else "alive"
            self.put("status", "patient_status", alive, self.where(patient, "deceasedBoolean"), keep=True)

    def treatment(self) -> None:
        groups: dict[Any, _Record] = {}
        for resource in self.resources:
            if resource["resourceType"] == "Procedure":
                self.procedure(resource)
            elif resource["resourceType"] in ("MedicationRequest", "MedicationAdministration"):
                self.medication(resource, groups)

    def intent(self, resource: dict[str, Any], line: _Record) -> None:
        intent = _extension(resource, INTENT_EXT).get("valueCodeableConcept")
        if intent:
            value = self.choice(intent, "treatment", "treatment_intent")
            self.put(line, "treatment_intent", value, self.where(resource, "extension:treatmentIntent"))

    def procedure(self, procedure: dict[str, Any]) -> None:
        category, profiles = procedure.get("category"), _profiles(procedure)
        kind = self.choice(category, "treatment", "line_type")
        if kind is None and (SURGERY_PROFILE in profiles or _code(category, SNOMED) == SURGERY_CATEGORY):
            kind = "surgery"
        elif kind is None and (RADIOTHERAPY_PROFILE in profiles or _code(category, SNOMED) == RADIOTHERAPY_CATEGORY):
            kind = "radiotherapy"
        untyped = kind is None and bool(_extension(category or {}, DATA_ABSENT_EXT))  # a line of unknown type
        if kind not in ("surgery", "radiotherapy", "other") and not untyped:
            return
        where = self.where
        line = self.new_record("treatment", procedure, "category")
        period = procedure.get("performedPeriod", {})
        self.put(line, "line_type", kind, where(procedure, "category"))
        if period.get("start"):
            self.put(line, "treatment_start_date", _day(period["start"]), where(procedure, "performedPeriod.start"))
        else:
            start = _day(procedure.get("performedDateTime"))
            self.put(line, "treatment_start_date", start, where(procedure, "performedDateTime"))
        self.put(line, "treatment_end_date", _day(period.get("end")), where(procedure, "performedPeriod.end"))
        self.intent(procedure, line)
        if kind == "surgery":
            surgery = self.choice(procedure.get("code"), "treatment", "surgery_type")
            self.put(line, "surgery_type", surgery, where(procedure, "code"))
            outcome = procedure.get("outcome")
            if outcome:
                margin = self.choice(outcome, "treatment", "resection_margin")
                self.put(line, "resection_margin", margin, where(procedure, "outcome"))
        elif kind == "radiotherapy":
            self.radiotherapy(procedure, line)
        elif kind == "other":
            self.put(line, "other_treatment", procedure.get("code", {}).get("text"), where(procedure, "code.text"))

    def radiotherapy(self, procedure: dict[str, Any], line: _Record) -> None:
        modality = _extension(_extension(procedure, MODALITY_TECHNIQUE_EXT), MODALITY_EXT).get("valueCodeableConcept")
        if modality:
            snomed = {code: technique for technique, code in RT_MODALITY.items()}
            technique = self.choice(modality, "treatment", "rt_technique") or snomed.get(_code(modality, SNOMED) or "")
            self.put(line, "rt_technique", technique, self.where(procedure, "extension:modalityAndTechnique"))
        dose = _extension(procedure, DOSE_EXT)
        where = self.where(procedure, "extension:doseDeliveredToVolume")
        quantity = _extension(dose, "totalDoseDelivered").get("valueQuantity")
        if quantity and quantity.get("value") is not None:
            gy = Decimal(str(quantity["value"]))
            gy = gy / 100 if quantity.get("code", quantity.get("unit")) == "cGy" else gy
            self.put(line, "rt_total_dose", float(gy), f"{where}.totalDoseDelivered")
        fractions = _extension(dose, "fractionsDelivered").get("valueUnsignedInt")
        self.put(line, "rt_fractions", fractions, f"{where}.fractionsDelivered")
        volume = self.resolve([_extension(dose, "volume").get("valueReference", {})])
        if volume:
            self.put(line, "rt_site", volume[0].get("description"), self.where(volume[0], "description"))

    def medication(self, resource: dict[str, Any], groups: dict[Any, _Record]) -> None:
        medication = resource.get("medicationCodeableConcept")
        field = next((f for f in _AGENT_FIELDS if _code(medication, system_of("treatment", f)) is not None), None)
        field = field or next((f for f in _AGENT_FIELDS if self.choice(medication, "treatment", f)), None)
        agent = self.choice(medication, "treatment", field) if field else None
        category = resource.get("category")
        kind = self.choice(category[0] if isinstance(category, list) else category, "treatment", "line_type")
        kind = kind or ("targeted_therapy" if field == "targeted_agent" else "chemotherapy")
        if resource["resourceType"] == "MedicationRequest":
            element = "dosageInstruction.timing.repeat.boundsPeriod"
            period = ((resource.get("dosageInstruction") or [{}])[0].get("timing", {}).get("repeat", {})).get(
                "boundsPeriod", {}
            )
        else:
            element = "effective[x]"
            period = resource.get("effectivePeriod") or {"start": resource.get("effectiveDateTime")}
        start, end = _day(period.get("start")), _day(period.get("end"))
        key = resource.get("groupIdentifier", {}).get("value") or (kind, start, end)
        where = self.where
        if key in groups:
            line = self.record_of[id(resource)] = groups[key]
        else:
            line = groups[key] = self.new_record("treatment", resource, "category")
            self.put(line, "line_type", kind, where(resource, "category"))
            self.put(line, "treatment_start_date", start, where(resource, f"{element}.start"))
            self.put(line, "treatment_end_date", end, where(resource, f"{element}.end"))
            self.intent(resource, line)
            reason = resource.get("statusReason")
            reason = reason[0] if isinstance(reason, list) else reason  # a list in MedicationAdministration
            if reason:
                end_reason = self.choice(reason, "treatment", "end_reason")
                self.put(line, "end_reason", end_reason, where(resource, "statusReason"))
        if agent is not None:
            field = MEDICATION_FIELDS.get(line.values.get("line_type", kind), "chemo_agents")
            self.append(line, field, agent, where(resource, "medicationCodeableConcept"))

    def field_observation(self, observation: dict[str, Any]) -> None:
        """A value of a field with no standard element: its code names the field, its focus the record."""
        code = _code(observation.get("code"), DICTIONARY) or ""
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
        target: _Record | str = form_code
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
                target if isinstance(target, _Record) else self.single.setdefault(form_code, _Record(form_code, where))
            )
            self.append(record, f.code, value, where)
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
            code = next((c for s in systems if s and (c := _code(raw, s)) is not None), None)
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
            raw = _day(raw)
        return raw, key
