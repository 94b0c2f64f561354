"""The vocabulary the FHIR export and import share: mCODE profile and extension URLs, code systems,
the codes staging, treatment and disease status are given, and `concept`, which writes a choice of the
dictionary as a CodeableConcept.
"""

from __future__ import annotations

from typing import Any

from partner.dictionary.loader import Dictionary
from partner.dictionary.schema import FieldDef

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


# What the export writes so that each resource meets the mCODE profile it claims (test_fhir_profiles checks it).

CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
NULL_FLAVOR = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
TECHNIQUE_EXT = MCODE + "mcode-radiotherapy-technique"
#: SNOMED CT "radiotherapy course of treatment", the code mCODE's RadiotherapyCourseSummary fixes.
RADIOTHERAPY_COURSE = "1217123003"
#: A staging Observation's category by basis: a pathological stage comes from the specimen, the others
#: from examination and imaging.
STAGE_CATEGORY = {"p": "laboratory", "c": "exam", None: "exam"}
#: mCODE's laterality value set has midline, which the dictionary's choice does not code.
LATERALITY_MORE = {"midline": "399488007"}
#: mCODE's radiotherapy modality for the registry's radionuclide therapies: administration of a radiopharmaceutical.
RT_RADIOPHARMACEUTICAL = {"radioiodine": "440252007", "radionuclide_other": "440252007"}
