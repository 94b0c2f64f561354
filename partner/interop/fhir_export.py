"""One case as an HL7 FHIR R4 Bundle (type collection) following the mCODE STU4 profiles.

What goes where, by form of the dictionary:

- registration: the CancerPatient: the pseudonym as its identifier (never a name), gender, birthDate,
  address.country.
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

The vocabulary shared with the import (fhir_import) lives here too: profile and extension URLs,
code systems, and `concept`, which writes a choice of the dictionary as a CodeableConcept.

Every coded value carries a coding in the registry's own system, `urn:partner:dictionary:<form>.<field>`,
so that the field it came from is named by the system and comes back unchanged; the standard codes
the dictionary lists for a choice (SNOMED CT, ATC) follow as further codings.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from fhir.resources.R4B.bodystructure import BodyStructure
from fhir.resources.R4B.bundle import Bundle, BundleEntry
from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.procedure import Procedure
from fhir.resources.R4B.resource import Resource

from partner.cases.models import TumourCase
from partner.cases.services import current_forms
from partner.dictionary.loader import Dictionary, get_dictionary
from partner.dictionary.schema import FieldDef, FormDef

# mCODE STU4 (4.0.0) canonical URLs, each checked against the published StructureDefinition.
MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
PATIENT_PROFILE = MCODE + "mcode-cancer-patient"
PRIMARY_PROFILE = MCODE + "mcode-primary-cancer-condition"
STAGE_PROFILE = MCODE + "mcode-cancer-stage"
TNM_STAGE_PROFILE = MCODE + "mcode-tnm-stage-group"
SURGERY_PROFILE = MCODE + "mcode-cancer-related-surgical-procedure"
MEDICATION_PROFILE = MCODE + "mcode-cancer-related-medication-request"
RADIOTHERAPY_PROFILE = MCODE + "mcode-radiotherapy-course-summary"
VOLUME_PROFILE = MCODE + "mcode-radiotherapy-volume"
DISEASE_STATUS_PROFILE = MCODE + "mcode-cancer-disease-status"

HISTOLOGY_EXT = MCODE + "mcode-histology-morphology-behavior"
LATERALITY_EXT = MCODE + "mcode-laterality-qualifier"
INTENT_EXT = MCODE + "mcode-procedure-intent"
MODALITY_TECHNIQUE_EXT = MCODE + "mcode-radiotherapy-modality-and-technique"
MODALITY_EXT = MCODE + "mcode-radiotherapy-modality"
DOSE_EXT = MCODE + "mcode-radiotherapy-dose-delivered-to-volume"
ASSERTED_DATE_EXT = "http://hl7.org/fhir/StructureDefinition/condition-assertedDate"
DATA_ABSENT_EXT = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"

ICDO3 = "http://terminology.hl7.org/CodeSystem/icd-o-3"
ICCC3 = "http://terminology.hl7.org/CodeSystem/iccc-3"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ATC = "http://www.whocc.no/atc"
UCUM = "http://unitsofmeasure.org"
VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
URI = "urn:ietf:rfc:3986"

PSEUDONYM = "urn:partner:pseudonym"
CASE_IDENTIFIER = "urn:partner:case"
DICTIONARY = "urn:partner:dictionary"

#: Standard code systems of the `concepts` the dictionary lists for a choice.
CONCEPT_SYSTEMS = {"snomed": SNOMED, "atc": ATC}
#: The FHIR code systems, as HL7 Terminology (THO) names them, of the dictionary's code fields that have one;
#: an ORPHA code goes there as its number. The registry's own coding comes first all the same.
CODE_SYSTEMS = {
    "ORPHA": "http://www.orpha.net",
    "HPO": "http://human-phenotype-ontology.org",
    "HGVS": "http://varnomen.hgvs.org",
    "ISO3166": "urn:iso:std:iso:3166",
}

DISEASE_STATUS_CODE = "97509-4"
SURGERY_CATEGORY = "387713003"
RADIOTHERAPY_CATEGORY = "108290001"
#: LOINC staging codes by basis (tnm_basis c, p; none is "other"): stage group, then T, N, M.
STAGE_CODES = {"c": "21908-9", "p": "21902-2", None: "21914-7"}
TNM_CODES = {
    "tnm_t": (MCODE + "mcode-tnm-primary-tumor-category", {"c": "21905-5", "p": "21899-0", None: "21911-3"}),
    "tnm_n": (MCODE + "mcode-tnm-regional-nodes-category", {"c": "21906-3", "p": "21900-6", None: "21912-1"}),
    "tnm_m": (MCODE + "mcode-tnm-distant-metastases-category", {"c": "21907-1", "p": "21901-4", None: "21913-9"}),
}
TNM_SYSTEMS = ("TNM8", "AJCC8")
#: mCODE's radiotherapy modality value set, for the techniques that have a code there.
RT_MODALITY = {"photons": "1156506007", "protons": "10611004"}
MEDICATION_FIELDS = {
    "chemotherapy": "chemo_agents",
    "targeted_therapy": "targeted_agent",
    "immunotherapy": "targeted_agent",
}
#: The line types a Procedure stands for (a line with no type too).
PROCEDURE_LINES = ("surgery", "radiotherapy", "other", None)

_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:partner:fhir")


def system_of(form: str, field: str) -> str:
    return f"{DICTIONARY}:{form}.{field}"


def field_def(dictionary: Dictionary, form: str, field: str) -> FieldDef:
    return next(f for f in dictionary.form_by_code[form].fields if f.code == field)


def concept(dictionary: Dictionary, form: str, field: str, value: str) -> dict[str, Any]:
    """A choice as a CodeableConcept: the registry's coding first, then the standard codes of the choice."""
    choice = next((c for c in field_def(dictionary, form, field).choices if c.code == value), None)
    coding: dict[str, Any] = {"system": system_of(form, field), "code": value}
    if choice is None:
        return {"coding": [coding]}
    codings = [{**coding, "display": choice.labels.en}]
    codings += [{"system": CONCEPT_SYSTEMS[k], "code": v} for k, v in choice.concepts.items() if k in CONCEPT_SYSTEMS]
    return {"coding": codings}


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


def case_bundle(case: TumourCase, dictionary: Dictionary | None = None) -> dict[str, Any]:
    """The case as a FHIR R4 Bundle of type collection, ready for `json.dumps`.

    The patient is known by the pseudonym only: names never leave the registry (it does not hold
    them). The date of birth, part of the registry's data, goes out in full. Resource ids and
    fullUrls are UUIDs derived from the case and the resource's place, so an unchanged case always
    gives the same bundle. Every value of the case's records goes out (see the module's docstring).
    """
    dictionary = dictionary or get_dictionary(case.dictionary_version.number)
    return _Export(case, dictionary).bundle()


class _Export:
    def __init__(self, case: TumourCase, dictionary: Dictionary):
        self.case = case
        self.dictionary = dictionary
        self.forms = current_forms(dictionary, case)
        self.entries: list[BundleEntry] = []
        #: (form, instance, field) of the values written to a standard element; the rest go as field Observations.
        self.written: set[tuple[str, int, str]] = set()
        #: (form, instance) -> the reference of the resource a record of a repeating form is.
        self.anchors: dict[tuple[str, int], str] = {}

    def uuid(self, *key: object) -> str:
        return str(uuid.uuid5(_NAMESPACE, "/".join(str(k) for k in (self.case.pk, *key))))

    def ref(self, *key: object) -> dict[str, str]:
        return {"reference": f"urn:uuid:{self.uuid(*key)}"}

    def add(self, resource: Resource) -> None:
        self.entries.append(BundleEntry(fullUrl=f"urn:uuid:{resource.id}", resource=resource))

    def wrote(self, form: str, instance: int, *fields: str) -> None:
        self.written.update((form, instance, f) for f in fields)

    def concept(self, form: str, field: str, value: str) -> dict[str, Any]:
        return concept(self.dictionary, form, field, value)

    def intent(self, line: dict[str, Any]) -> list[dict[str, Any]]:
        if not line.get("treatment_intent"):
            return []
        return [
            {
                "url": INTENT_EXT,
                "valueCodeableConcept": self.concept("treatment", "treatment_intent", line["treatment_intent"]),
            }
        ]

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
        if diagnosis.get("laterality"):
            laterality = self.concept("diagnosis", "laterality", diagnosis["laterality"])
            site["extension"] = [{"url": LATERALITY_EXT, "valueCodeableConcept": laterality}]
        data: dict[str, Any] = {
            "id": self.uuid("condition"),
            "meta": {"profile": [PRIMARY_PROFILE]},
            "extension": [
                {"url": HISTOLOGY_EXT, "valueCodeableConcept": {"coding": [{"system": ICDO3, "code": morphology}]}}
            ],
            "identifier": [{"system": CASE_IDENTIFIER, "value": case.external_id or str(case.pk)}],
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
        fields = ("morphology", "topography", "diagnosis_date", "onset_date", "laterality", "basis_of_diagnosis")
        self.wrote("diagnosis", 1, *fields)
        self.add(Condition(**data))

    def stage(self) -> None:
        diagnosis = self.forms.get("diagnosis", {})
        system, basis = diagnosis.get("stage_system"), diagnosis.get("tnm_basis")
        common: dict[str, Any] = {"status": "final", "subject": self.ref("patient"), "focus": [self.ref("condition")]}
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

    def treatment(self, number: int, line: dict[str, Any]) -> None:
        kind = line.get("line_type")
        if kind in MEDICATION_FIELDS:
            self.medications(number, line, MEDICATION_FIELDS[kind])
            return
        if kind not in PROCEDURE_LINES:
            return  # a line type of a later dictionary: its record goes as a record Observation
        period = {
            k: line[f] for k, f in (("start", "treatment_start_date"), ("end", "treatment_end_date")) if line.get(f)
        }
        data: dict[str, Any] = {
            "id": self.uuid("treatment", number),
            "status": "completed" if kind == "surgery" or "end" in period else "unknown",
            "subject": self.ref("patient"),
            "reasonReference": [self.ref("condition")],
            "extension": self.intent(line),
        }
        if kind is None:  # a draft's line whose type is not yet known
            data["category"] = {"extension": [{"url": DATA_ABSENT_EXT, "valueCode": "unknown"}]}
        else:
            data["category"] = self.concept("treatment", "line_type", kind)
        if kind == "surgery":
            data["category"]["coding"].insert(0, {"system": SNOMED, "code": SURGERY_CATEGORY})
        elif kind == "radiotherapy":
            data["category"]["coding"].insert(0, {"system": SNOMED, "code": RADIOTHERAPY_CATEGORY})
        if period:
            data["performedPeriod"] = period
        self.wrote("treatment", number, "line_type", "treatment_start_date", "treatment_end_date", "treatment_intent")
        if kind == "surgery":
            data["meta"] = {"profile": [SURGERY_PROFILE]}
            if line.get("surgery_type"):
                data["code"] = self.concept("treatment", "surgery_type", line["surgery_type"])
            if line.get("resection_margin"):
                data["outcome"] = self.concept("treatment", "resection_margin", line["resection_margin"])
            self.wrote("treatment", number, "surgery_type", "resection_margin")
        elif kind == "radiotherapy":
            data["meta"] = {"profile": [RADIOTHERAPY_PROFILE]}
            data["extension"] += self.radiotherapy(number, line)
            self.wrote("treatment", number, "rt_technique", "rt_total_dose", "rt_fractions", "rt_site")
        elif kind == "other" and line.get("other_treatment"):
            data["code"] = {"text": line["other_treatment"]}
            self.wrote("treatment", number, "other_treatment")
        self.anchors["treatment", number] = f"urn:uuid:{data['id']}"
        self.add(Procedure(**{k: v for k, v in data.items() if v}))

    def radiotherapy(self, number: int, line: dict[str, Any]) -> list[dict[str, Any]]:
        extensions = []
        if line.get("rt_technique"):
            modality = self.concept("treatment", "rt_technique", line["rt_technique"])
            if line["rt_technique"] in RT_MODALITY:
                modality["coding"].append({"system": SNOMED, "code": RT_MODALITY[line["rt_technique"]]})
            modality_ext = {"url": MODALITY_EXT, "valueCodeableConcept": modality}
            extensions.append({"url": MODALITY_TECHNIQUE_EXT, "extension": [modality_ext]})
        if not any(line.get(f) is not None for f in ("rt_total_dose", "rt_fractions", "rt_site")):
            return extensions
        volume: dict[str, Any] = {"id": self.uuid("volume", number), "meta": {"profile": [VOLUME_PROFILE]}}
        volume["patient"] = self.ref("patient")
        if line.get("rt_site"):
            volume["description"] = line["rt_site"]
        self.add(BodyStructure(**volume))
        dose: list[dict[str, Any]] = [{"url": "volume", "valueReference": self.ref("volume", number)}]
        if line.get("rt_total_dose") is not None:
            # mCODE records doses in cGy; the registry in Gy.
            cgy = Decimal(str(line["rt_total_dose"])) * 100
            quantity = {"value": cgy, "unit": "cGy", "system": UCUM, "code": "cGy"}
            dose.append({"url": "totalDoseDelivered", "valueQuantity": quantity})
        if line.get("rt_fractions") is not None:
            dose.append({"url": "fractionsDelivered", "valueUnsignedInt": line["rt_fractions"]})
        return [*extensions, {"url": DOSE_EXT, "extension": dose}]

    def medications(self, number: int, line: dict[str, Any], field: str) -> None:
        """One MedicationRequest per agent; the line's requests share a group identifier.

        The first request stands for the line: the line's field Observations name it as their focus.
        """
        period = {
            k: line[f] for k, f in (("start", "treatment_start_date"), ("end", "treatment_end_date")) if line.get(f)
        }
        common: dict[str, Any] = {
            "meta": {"profile": [MEDICATION_PROFILE]},
            "status": "completed" if "end" in period else "unknown",
            "intent": "order",
            "category": [self.concept("treatment", "line_type", line["line_type"])],
            "subject": self.ref("patient"),
            "reasonReference": [self.ref("condition")],
            "groupIdentifier": {"system": URI, "value": f"urn:uuid:{self.uuid('treatment', number)}"},
        }
        if self.intent(line):
            common["extension"] = self.intent(line)
        if period:
            common["dosageInstruction"] = [{"timing": {"repeat": {"boundsPeriod": period}}}]
        if line.get("end_reason"):
            common["statusReason"] = self.concept("treatment", "end_reason", line["end_reason"])
        fields = ("line_type", "treatment_start_date", "treatment_end_date", "treatment_intent", "end_reason", field)
        self.wrote("treatment", number, *fields)
        medications = [self.concept("treatment", field, agent) for agent in line.get(field) or []]
        if not medications:
            medications = [{"extension": [{"url": DATA_ABSENT_EXT, "valueCode": "unknown"}]}]
        self.anchors["treatment", number] = f"urn:uuid:{self.uuid('treatment', number, 1)}"
        for position, medication in enumerate(medications, start=1):
            self.add(
                MedicationRequest(
                    id=self.uuid("treatment", number, position), medicationCodeableConcept=medication, **common
                )
            )

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
