"""One case as an HL7 FHIR R4 Bundle (type collection) following the mCODE STU4 profiles.

What goes where, by form of the dictionary:

- registration: the CancerPatient: the pseudonym as its identifier, a name that says it is masked
  (data-absent-reason: the registry holds no names), gender, birthDate, address.country.
- diagnosis: the PrimaryCancerCondition: ICD-O-3 morphology (histology extension and code, with the
  ICCC-3 group), topography with laterality (bodySite), onset, date of diagnosis (assertedDate),
  basis of diagnosis (evidence); a CancerStage or TNMStageGroup Observation with its T, N and M
  category Observations.
- treatment: one resource a line, its dates, intent and end reason: a CancerRelatedSurgicalProcedure
  (type, margin), a RadiotherapyCourseSummary (modality, dose and fractions, with a RadiotherapyVolume
  for the site) or a Procedure for other treatments; a line of drugs one CancerRelatedMedicationRequest
  per agent, the line's requests sharing a group identifier (a line with no agent recorded: one request
  whose medication is absent, with a data-absent-reason).
- follow_up: one Observation an event, dated by the event: a CancerDiseaseStatus when the event has a
  type and a disease status, else an Observation coded with the field `follow_up.event_type`.
- status: Patient.deceased[x]; a CancerDiseaseStatus for the last known disease status; the patient's
  status as an Observation dated by the last contact, with the cause of death as its component.

Every other value of the case's records goes out as a field Observation: the tumour modules, the
consent form, and the fields of the common dataset mCODE has no element for (the number of cycles,
the type and sites of a relapse, a late effect...). Its code is the field in the registry's own
dictionary, system `urn:partner:dictionary`, code `<form>.<field>` (`acc.acc_weiss_score`); its value
is value[x] by the field's type: a choice a CodeableConcept like every coded value below, a number a
Quantity (in the field's UCUM unit when it has one; valueInteger for a whole number without unit),
a date valueDateTime, yes/no valueBoolean, text valueString, ICD-O-3 codes and the codes of other
systems (ORPHA, HPO...) a CodeableConcept; a multiple choice gives one Observation a value. The
field Observation of a treatment line or a follow-up event names the line's or the event's resource
as its `focus`; one of the diagnosis or a tumour module names the Condition. A record no resource
above stands for (a form kept with no value, a record of a repeating form mCODE has no resource
for) goes out as an Observation coded with the form's code alone, which the record's field
Observations name as their focus. So nothing of the case's records is left behind: fhir_import
lists the little a bundle does not carry.

The treatment lines are written in fhir_treatments and the field Observations in fhir_fields, each
next to its reading for the import; the vocabulary the export and the import share (profile and
extension URLs, code systems, `concept`) is in fhir_vocabulary.

Every coded value carries a coding in the registry's own system, `urn:partner:dictionary:<form>.<field>`,
so that the field it came from is named by the system and comes back unchanged; the standard codes
the dictionary lists for a choice (SNOMED CT, ATC) follow as further codings.
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient

from partner.cases.models import TumourCase
from partner.dictionary.loader import Dictionary, get_dictionary

from .fhir_bundle import code_of
from .fhir_fields import FieldWriting, element
from .fhir_treatments import TreatmentWriting
from .fhir_vocabulary import (
    ASSERTED_DATE_EXT,
    CASE_IDENTIFIER,
    CONDITION_CATEGORY,
    DATA_ABSENT_EXT,
    DISEASE_STATUS_CODE,
    DISEASE_STATUS_PROFILE,
    HISTOLOGY_EXT,
    ICCC3,
    ICDO3,
    LATERALITY_EXT,
    LATERALITY_MORE,
    LOINC,
    OBSERVATION_CATEGORY,
    PATIENT_PROFILE,
    PRIMARY_PROFILE,
    PSEUDONYM,
    SNOMED,
    STAGE_CATEGORY,
    STAGE_CODES,
    STAGE_PROFILE,
    TNM_CODES,
    TNM_STAGE_PROFILE,
    TNM_SYSTEMS,
    VERIFICATION,
    field_def,
)


def case_bundle(case: TumourCase, dictionary: Dictionary | None = None) -> dict[str, Any]:
    """The case as a FHIR R4 Bundle of type collection, ready for `json.dumps`.

    The patient is known by the pseudonym only: names never leave the registry (it does not hold
    them). The date of birth, part of the registry's data, goes out in full. Resource ids and
    fullUrls are UUIDs derived from the case and the resource's place, so an unchanged case always
    gives the same bundle. Every value of the case's records goes out (see the module's docstring).
    """
    dictionary = dictionary or get_dictionary(case.dictionary_version.number)
    return _Export(case, dictionary).bundle()


class _Export(TreatmentWriting, FieldWriting):
    def bundle(self) -> dict[str, Any]:
        self.patient()
        self.condition()
        self.stage()
        for number, line in enumerate(self.forms.get("treatment", []), start=1):
            self.treatment(number, line)
        for number, event in enumerate(self.forms.get("follow_up", []), start=1):
            self.event(number, event)
        self.vital_status()
        self.other_values()
        bundle = Bundle(id=self.uuid("bundle"), type="collection", entry=self.entries or None)
        return bundle.model_dump(mode="json", exclude_none=True)

    def patient(self) -> None:
        registration = self.forms.get("registration", {})
        status = self.forms.get("status", {})
        patient = self.case.patient
        sex = registration.get("sex") or patient.sex
        gender = {
            c.code: c.concepts.get("hl7", c.code) for c in field_def(self.dictionary, "registration", "sex").choices
        }
        data: dict[str, Any] = {
            "id": self.uuid("patient"),
            "meta": {"profile": [PATIENT_PROFILE]},
            "identifier": [{"system": PSEUDONYM, "value": patient.pseudonym}],
            # US Core's name is required; the registry holds none, and says so (us-core-6 allows it).
            "name": [{"extension": [{"url": DATA_ABSENT_EXT, "valueCode": "masked"}]}],
            "gender": gender.get(sex, "unknown"),
            "birthDate": registration.get("date_of_birth") or patient.date_of_birth.isoformat(),
        }
        self.wrote("registration", 1, "date_of_birth", "sex")
        if registration.get("country_of_residence"):
            data["address"] = [{"country": registration["country_of_residence"]}]
            self.wrote("registration", 1, "country_of_residence")
        if status.get("patient_status") == "dead":
            if status.get("date_of_death"):
                data["deceasedDateTime"] = status["date_of_death"]
                self.wrote("status", 1, "date_of_death")
            else:
                data["deceasedBoolean"] = True
        elif status.get("patient_status") == "alive":
            data["deceasedBoolean"] = False
        self.add(Patient(**data))

    def condition(self) -> None:
        diagnosis = self.forms.get("diagnosis", {})
        case = self.case
        morphology = diagnosis.get("morphology") or case.morphology
        diagnosed = diagnosis.get("diagnosis_date") or (case.diagnosis_date and case.diagnosis_date.isoformat())
        code = [{"system": ICDO3, "code": morphology}]
        if case.iccc_extended:
            code.append({"system": ICCC3, "code": case.iccc_extended})
        site: dict[str, Any] = {"coding": [{"system": ICDO3, "code": diagnosis.get("topography") or case.topography}]}
        laterality = self.laterality(diagnosis.get("laterality"))
        if laterality:
            site["extension"] = [{"url": LATERALITY_EXT, "valueCodeableConcept": laterality}]
        data: dict[str, Any] = {
            "id": self.uuid("condition"),
            "meta": {"profile": [PRIMARY_PROFILE]},
            "extension": [
                {"url": HISTOLOGY_EXT, "valueCodeableConcept": {"coding": [{"system": ICDO3, "code": morphology}]}}
            ],
            "identifier": [{"system": CASE_IDENTIFIER, "value": case.external_id or str(case.pk)}],
            "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "problem-list-item"}]}],
            "verificationStatus": {"coding": [{"system": VERIFICATION, "code": "confirmed"}]},
            "code": {"coding": code},
            "bodySite": [site],
            "subject": self.ref("patient"),
        }
        if diagnosed:
            data["extension"].insert(0, {"url": ASSERTED_DATE_EXT, "valueDateTime": diagnosed})
            data["recordedDate"] = diagnosed
        if diagnosis.get("onset_date"):
            data["onsetDateTime"] = diagnosis["onset_date"]
        if diagnosis.get("basis_of_diagnosis"):
            data["evidence"] = [
                {"code": [self.concept("diagnosis", "basis_of_diagnosis", diagnosis["basis_of_diagnosis"])]}
            ]
        fields = ("morphology", "topography", "diagnosis_date", "onset_date", "basis_of_diagnosis")
        self.wrote("diagnosis", 1, *fields, *(["laterality"] if laterality else []))
        self.add(Condition(**data))

    def laterality(self, value: str | None) -> dict[str, Any] | None:
        """The laterality qualifier, for a laterality mCODE's value set has (SNOMED CT); the others
        (not applicable, unknown) go as a field Observation."""
        if not value:
            return None
        laterality = self.concept("diagnosis", "laterality", value)
        if value in LATERALITY_MORE:
            laterality["coding"].append({"system": SNOMED, "code": LATERALITY_MORE[value]})
        return laterality if code_of(laterality, SNOMED) else None

    def stage(self) -> None:
        diagnosis = self.forms.get("diagnosis", {})
        system, basis = diagnosis.get("stage_system"), diagnosis.get("tnm_basis")
        kind = {"coding": [{"system": OBSERVATION_CATEGORY, "code": STAGE_CATEGORY.get(basis, "exam")}]}
        common: dict[str, Any] = {
            "status": "final",
            "category": [kind],
            "subject": self.ref("patient"),
            "focus": [self.ref("condition")],
        }
        if diagnosis.get("diagnosis_date"):
            common["effectiveDateTime"] = diagnosis["diagnosis_date"]
        if system in TNM_SYSTEMS:
            common["method"] = self.concept("diagnosis", "stage_system", system)
        categories = [
            Observation(
                id=self.uuid(field),
                meta={"profile": [profile]},
                code={"coding": [{"system": LOINC, "code": codes[basis]}]},
                valueCodeableConcept=self.concept("diagnosis", field, diagnosis[field]),
                **common,
            )
            for field, (profile, codes) in TNM_CODES.items()
            if diagnosis.get(field)
        ]
        self.wrote("diagnosis", 1, *(field for field in TNM_CODES if diagnosis.get(field)))
        if categories:
            self.wrote("diagnosis", 1, "tnm_basis")  # the categories' LOINC codes say clinical or pathological
        if system and system != "not_staged" and (diagnosis.get("stage_group") or categories):
            group: dict[str, Any] = {"id": self.uuid("stage"), **common}
            group["meta"] = {"profile": [TNM_STAGE_PROFILE if system in TNM_SYSTEMS else STAGE_PROFILE]}
            group["code"] = {
                "coding": [{"system": LOINC, "code": STAGE_CODES[basis if system in TNM_SYSTEMS else None]}]
            }
            group["method"] = self.concept("diagnosis", "stage_system", system)
            if diagnosis.get("stage_group"):
                group["valueCodeableConcept"] = {"text": diagnosis["stage_group"]}
            if categories:
                group["hasMember"] = [{"reference": f"urn:uuid:{c.id}"} for c in categories]
            self.wrote("diagnosis", 1, "stage_system", "stage_group")
            if system in TNM_SYSTEMS:
                self.wrote("diagnosis", 1, "tnm_basis")
            self.add(Observation(**group))
        for category in categories:
            self.add(category)

    def event(self, number: int, event: dict[str, Any]) -> None:
        """The event's Observation: a CancerDiseaseStatus, or one coded with the event's type."""
        key = ("follow_up", number)
        self.anchors[key] = f"urn:uuid:{self.uuid(*key)}"
        when = event.get("event_date")
        if event.get("disease_status") and event.get("event_type"):
            value = self.concept("follow_up", "disease_status", event["disease_status"])
            self.disease_status(key, when, value)
            self.wrote("follow_up", number, "event_date", "disease_status")
            if event["event_type"] == "response_assessment":
                self.wrote("follow_up", number, "event_type")  # the one a CancerDiseaseStatus implies
            return
        label = field_def(self.dictionary, "follow_up", "event_type").labels.en
        data: dict[str, Any] = {
            "id": self.uuid(*key),
            "status": "final",
            "code": element("follow_up", "event_type", label),
            "subject": self.ref("patient"),
            "focus": [self.ref("condition")],
        }
        if event.get("event_type"):
            data["valueCodeableConcept"] = self.concept("follow_up", "event_type", event["event_type"])
        if when:
            data["effectiveDateTime"] = when
        self.wrote("follow_up", number, "event_type", "event_date")
        self.add(Observation(**data))

    def disease_status(self, key: tuple[object, ...], when: str | None, value: dict[str, Any]) -> None:
        data: dict[str, Any] = {
            "id": self.uuid(*key),
            "meta": {"profile": [DISEASE_STATUS_PROFILE]},
            "status": "final",
            "code": {"coding": [{"system": LOINC, "code": DISEASE_STATUS_CODE}]},
            "subject": self.ref("patient"),
            "focus": [self.ref("condition")],
            "valueCodeableConcept": value,
        }
        if when:
            data["effectiveDateTime"] = when
        self.add(Observation(**data))

    def vital_status(self) -> None:
        status = self.forms.get("status", {})
        if status.get("last_disease_status"):
            value = self.concept("status", "last_disease_status", status["last_disease_status"])
            self.disease_status(("last_disease_status",), status.get("last_contact_date"), value)
            self.wrote("status", 1, "last_disease_status")
        if not status.get("patient_status"):
            return
        data: dict[str, Any] = {
            "id": self.uuid("vital_status"),
            "status": "final",
            "code": element(
                "status", "patient_status", field_def(self.dictionary, "status", "patient_status").labels.en
            ),
            "subject": self.ref("patient"),
            "valueCodeableConcept": self.concept("status", "patient_status", status["patient_status"]),
        }
        if status.get("last_contact_date"):
            data["effectiveDateTime"] = status["last_contact_date"]
        if status.get("cause_of_death"):
            label = field_def(self.dictionary, "status", "cause_of_death").labels.en
            cause = self.concept("status", "cause_of_death", status["cause_of_death"])
            data["component"] = [{"code": element("status", "cause_of_death", label), "valueCodeableConcept": cause}]
        self.wrote("status", 1, "patient_status", "last_contact_date", "cause_of_death")
        self.add(Observation(**data))
