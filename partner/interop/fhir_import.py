"""A FHIR R4 Bundle (mCODE STU4) read back into the forms of a case, and imported as a new case.

The reading mirrors fhir_export: a value coded in the registry's own system comes back as it left;
from other senders, the standard codes the dictionary lists for a choice (SNOMED CT, ATC) are
recognised, and what cannot be read is left out for the data manager to complete. A field
Observation (code system `urn:partner:dictionary`) names its field by its code, and the treatment
line or follow-up event it belongs to by its focus; one naming no field of the dictionary, or no
record of the bundle, or giving its value as the wrong value[x] or in another unit, is refused, as is
a field given two different values. Every error names the resource (its fullUrl, else its id) and
the element; so does a value the dictionary refuses (`CaseInvalid`, from `create_case`).
The treatment lines are read in fhir_treatments_in, the staging in fhir_staging, the field
Observations in fhir_fields.

From other senders (mCODE STU4 as hospitals write it): staging coded by LOINC or SNOMED CT, its value
by SNOMED CT or AJCC (or in Condition.stage); drugs by ATC, RxNorm or their name (one the dictionary
does not list is a line of another treatment, named, never chemotherapy); the surgery type and
approach from the procedure's name; every radiotherapy volume; a country by ISO code or by name. A
morphology and topography are needed in ICD-O-3. What is not taken is left out with its reason:
`import_bundle_reported` returns the report (fhir_report) with each value taken and its element,
what was left out, the quality findings raised, and what refused the import.

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

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from partner.accounts.models import Centre
from partner.cases.models import Status, TumourCase
from partner.cases.services import CaseInvalid, FormError, create_case
from partner.dictionary.loader import Dictionary, get_dictionary

from .fhir_bundle import BundleError, Record, code_of, day_of, extension_of, profiles_of
from .fhir_countries import country_code
from .fhir_fields import FieldReading
from .fhir_parse import parse_bundle
from .fhir_report import (
    LEFT_OUT,
    TAKEN,
    BundleReport,
    ReportLine,
    field_label,
    finding_lines,
    reading_lines,
    split_source,
    text_of,
)
from .fhir_staging import StagingReading
from .fhir_treatments_in import TreatmentReading, name_of
from .fhir_vocabulary import (
    ASSERTED_DATE_EXT,
    CASE_IDENTIFIER,
    DICTIONARY,
    DISEASE_STATUS_CODE,
    DISEASE_STATUS_PROFILE,
    HISTOLOGY_EXT,
    ICDO3,
    LATERALITY_EXT,
    LOINC,
    PRIMARY_PROFILE,
    PSEUDONYM,
    field_def,
    system_of,
)


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
    reading = _read(bundle, get_dictionary())
    try:
        return _import(reading, centre=centre, user=user, status=status)
    except CaseInvalid as exc:
        raise CaseInvalid([reading.locate(e) for e in _first_what_registers(exc.errors)]) from None


@dataclass
class BundleImport:
    """A bundle's import: the new case (None when refused) and the report of what became of the bundle."""

    case: TumourCase | None
    report: BundleReport


def import_bundle_reported(
    bundle: Any, *, centre: Centre, user: Any = None, status: str = Status.DRAFT, source: str = "bundle"
) -> BundleImport:
    """`import_bundle`, with its report: each value taken and where from, what was left out and why, the
    quality findings raised on the new case. What is wrong with the bundle is reported (the report's
    refused lines), not raised, and nothing is written; a user who may not register cases at the
    centre is refused as `create_case` refuses them (`NotPermitted`).
    """
    report = BundleReport(source, centre=centre.code)
    dictionary = get_dictionary()
    try:
        data = parse_bundle(bundle)
    except BundleError as exc:
        report.readable = False
        report.refuse(str(exc))
        return BundleImport(None, report)
    try:
        reading = _Reader(data, dictionary).read()
    except BundleError as exc:
        report.refuse(str(exc))
        return BundleImport(None, report)
    try:
        case = _import(reading, centre=centre, user=user, status=status)
    except BundleError as exc:
        report.lines.extend(reading.lines)
        report.refuse(str(exc))
        return BundleImport(None, report)
    except CaseInvalid as exc:
        report.lines.extend(reading.lines)
        for error in _first_what_registers(exc.errors):
            resource, element = split_source(reading.source_of(error.form, error.instance, error.field))
            name = field_label(dictionary, error.form, error.instance, error.field)
            report.refuse(error.message, resource=resource, element=element, field=name)
        return BundleImport(None, report)
    report.lines.extend(reading.lines)
    report.case = case.pk
    report.lines.extend(finding_lines(case, reading.source_of, dictionary))
    return BundleImport(case, report)


def _import(reading: _Reading, *, centre: Centre, user: Any, status: str) -> TumourCase:
    external_id = reading.case_fields["external_id"]
    with transaction.atomic():
        if external_id and TumourCase.objects.filter(centre=centre, external_id=external_id).exists():
            raise BundleError(
                _("%(centre)s already has a case with the identifier %(id)s: this bundle was imported before")
                % {"centre": centre.code, "id": external_id}
            )
        while True:
            try:
                return create_case(
                    dictionary=get_dictionary(),
                    centre=centre,
                    pseudonym=reading.case_fields["pseudonym"],
                    forms=reading.forms,
                    status=status,
                    external_id=external_id,
                    user=user,
                )
            except CaseInvalid as exc:
                if not reading.leave_unasked(exc.errors):
                    raise


#: The values a case is registered by: without one, the others' errors follow from its absence.
_REGISTERING = ("date_of_birth", "sex", "diagnosis_date", "morphology", "topography")


def _first_what_registers(errors: list[FormError]) -> list[FormError]:
    return sorted(errors, key=lambda e: e.form not in ("registration", "diagnosis") or e.field not in _REGISTERING)


def _read(bundle: Any, dictionary: Dictionary) -> _Reading:
    return _Reader(parse_bundle(bundle), dictionary).read()


@dataclass
class _Reading:
    case_fields: dict[str, Any]
    forms: dict[str, Any]
    records: dict[tuple[str, int], Record]
    lines: list[ReportLine]
    #: (id of a record, field) given by a field Observation, which must be taken as it is or refused.
    strict: set[tuple[int, str]]

    def source_of(self, form: str, instance: int, field: str) -> str:
        """The resource and element of the bundle a field's value came from (or would have); "" if none."""
        record = self.records.get((form, instance))
        return "" if record is None else record.sources.get(field, record.source)

    def leave_unasked(self, errors: list[FormError]) -> bool:
        """Leave out the values standard elements gave to fields the dictionary does not ask for in their
        record (the T category of a thyroid carcinoma, which its module records), each with a line in
        the report; a field Observation's value stays, to be refused. False if there was none."""
        dictionary = get_dictionary()
        left = False
        for error in errors:
            record = self.records.get((error.form, error.instance))
            if record is None or error.field not in record.values or (id(record), error.field) in self.strict:
                continue
            condition = field_def(dictionary, error.form, error.field).show_if
            if not condition or error.message != _("must be empty unless %(condition)s") % {"condition": condition}:
                continue
            value = record.values.pop(error.field)
            resource, element = split_source(record.sources.get(error.field, record.source))
            name = field_label(dictionary, error.form, error.instance, error.field)
            self.lines = [line for line in self.lines if (line.outcome, line.field) != (TAKEN, name)]
            why = _("the dictionary asks for it only when %(condition)s") % {"condition": condition}
            self.lines.append(ReportLine(LEFT_OUT, resource, element, name, text_of(value), "", why))
            left = True
        return left

    def locate(self, error: FormError) -> FormError:
        """The error with the resource and element of the bundle its value came from."""
        source = self.source_of(error.form, error.instance, error.field)
        if not source:
            return error
        return FormError(error.form, error.instance, error.field, f"{error.message} (from {source})")


class _Reader(StagingReading, TreatmentReading, FieldReading):
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
        self.condition_stage(condition)
        self.treatment()
        self.vital_status(patient)
        for observation in self.field_observations:
            self.field_observation(observation)
        for event in self.assessments:  # the type a disease status implies, unless the bundle gave another
            self.put(event, "event_type", "response_assessment", event.source, keep=True)
        return self.reading({"pseudonym": pseudonym, "external_id": external_id})

    def reading(self, case_fields: dict[str, Any]) -> _Reading:
        forms: dict[str, Any] = {}
        records: dict[tuple[str, int], Record] = {}
        for code, record in self.single.items():
            forms[code] = record.values
            records[code, 1] = record
        for code, instances in self.repeated.items():
            forms[code] = [r.values for r in instances]
            records.update({(code, number): r for number, r in enumerate(instances, start=1)})
        return _Reading(case_fields, forms, records, reading_lines(self, records), self.strict)

    def primary_condition(self) -> dict[str, Any]:
        conditions = self.of_type("Condition")
        primary = [c for c in conditions if PRIMARY_PROFILE in profiles_of(c)] or [
            c for c in conditions if extension_of(c, HISTOLOGY_EXT) or "/" in (code_of(c.get("code"), ICDO3) or "")
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
        self.put("registration", "date_of_birth", patient.get("birthDate"), self.where(patient, "birthDate"))
        self.expect("registration", "date_of_birth", self.where(patient, "birthDate"))
        self.put("registration", "sex", sex, self.where(patient, "gender"))
        self.expect("registration", "sex", self.where(patient, "gender"))
        country = next((a["country"] for a in patient.get("address", []) if a.get("country")), None)
        if country is not None:
            code = country_code(country)
            if code is None:
                self.leave(patient, "address.country", _("names no country (an ISO 3166 code or a name)"), country)
            self.put("registration", "country_of_residence", code, self.where(patient, "address.country"))
        named = any(n.get("family") or n.get("given") or n.get("text") for n in patient.get("name", []))
        identifying = ["name"] if named else []
        identifying += [e for e in ("telecom", "photo", "contact") if patient.get(e)]
        identifying += ["address.line"] if any(a.get("line") for a in patient.get("address", [])) else []
        if identifying:
            why = _("identifying data: the registry never holds it, only the pseudonym")
            self.leave(patient, ", ".join(identifying), why)

    def diagnosis(self, condition: dict[str, Any]) -> None:
        where = self.where
        asserted = extension_of(condition, ASSERTED_DATE_EXT).get("valueDateTime")
        histology = code_of(extension_of(condition, HISTOLOGY_EXT).get("valueCodeableConcept"), ICDO3)
        site = (condition.get("bodySite") or [{}])[0]
        evidence = [c for e in condition.get("evidence", []) for c in e.get("code", [])]
        laterality = extension_of(site, LATERALITY_EXT).get("valueCodeableConcept")
        self.put("diagnosis", "onset_date", day_of(condition.get("onsetDateTime")), where(condition, "onsetDateTime"))
        for value, element in (
            (asserted, "extension:assertedDate"),
            (condition.get("recordedDate"), "recordedDate"),
            (condition.get("onsetDateTime"), "onsetDateTime"),
        ):
            if value:
                self.put("diagnosis", "diagnosis_date", day_of(value), where(condition, element))
                break
        self.expect(
            "diagnosis", "diagnosis_date", where(condition, "extension:assertedDate, recordedDate or onsetDateTime")
        )
        if histology:
            self.put("diagnosis", "morphology", histology, where(condition, "extension:histologyMorphologyBehavior"))
        elif code_of(condition.get("code"), ICDO3):
            self.put("diagnosis", "morphology", code_of(condition.get("code"), ICDO3), where(condition, "code"))
        else:
            element = "extension:histologyMorphologyBehavior (or code), in ICD-O-3"
            self.expect("diagnosis", "morphology", where(condition, element))
            given = extension_of(condition, HISTOLOGY_EXT).get("valueCodeableConcept") or condition.get("code")
            if given:
                why = _("the histology is not coded in ICD-O-3, which the registry needs")
                self.leave(condition, "extension:histologyMorphologyBehavior", why, name_of(given))
        self.put("diagnosis", "topography", code_of(site, ICDO3), where(condition, "bodySite"))
        self.expect("diagnosis", "topography", where(condition, "bodySite, in ICD-O-3"))
        if site and not code_of(site, ICDO3):
            self.leave(
                condition, "bodySite", _("the site is not coded in ICD-O-3, which the registry needs"), name_of(site)
            )
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
            own = code_of(observation.get("code"), DICTIONARY)
            loinc = code_of(observation.get("code"), LOINC)
            value = observation.get("valueCodeableConcept")
            when = day_of(observation.get("effectiveDateTime"))
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
            elif loinc == DISEASE_STATUS_CODE or DISEASE_STATUS_PROFILE in profiles_of(observation):
                if code_of(value, last_status) is not None:
                    where = self.where(observation, "valueCodeableConcept")
                    self.put("status", "last_disease_status", code_of(value, last_status), where)
                    continue
                disease_status = self.choice(value, "follow_up", "disease_status")
                if disease_status is not None:  # a status the dictionary has no code for is left out
                    event = self.new_record("follow_up", observation, "code")
                    self.put(event, "event_date", when, self.where(observation, "effectiveDateTime"))
                    where = self.where(observation, "valueCodeableConcept")
                    self.put(event, "disease_status", disease_status, where)
                    self.assessments.append(event)
            else:
                self.staging(observation)

    def patient_status(self, observation: dict[str, Any], value: dict[str, Any] | None, when: Any) -> None:
        cause = next(
            (
                c.get("valueCodeableConcept")
                for c in observation.get("component", [])
                if code_of(c.get("code"), DICTIONARY) == "status.cause_of_death"
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

    def vital_status(self, patient: dict[str, Any]) -> None:
        if "deceasedDateTime" in patient:
            self.put("status", "patient_status", "dead", self.where(patient, "deceasedDateTime"), keep=True)
            self.put(
                "status", "date_of_death", day_of(patient["deceasedDateTime"]), self.where(patient, "deceasedDateTime")
            )
        elif "deceasedBoolean" in patient:
            alive = "dead" if patient["deceasedBoolean"] else "alive"
            self.put("status", "patient_status", alive, self.where(patient, "deceasedBoolean"), keep=True)
