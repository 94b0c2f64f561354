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


# What the import understands from other senders (mCODE STU4 as hospitals write it). Each code below
# was checked against mCODE STU4's value sets, or is RxNorm's ingredient code of the agent.

NCIT = "http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl"
AJCC = "http://cancerstaging.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
SECONDARY_PROFILE = MCODE + "mcode-secondary-cancer-condition"
TECHNIQUE_EXT = MCODE + "mcode-radiotherapy-technique"
#: SNOMED CT staging Observation codes (mCODE's TNM staging type value sets): basis c, p, or None (unsaid).
SNOMED_STAGE_CODES = {"399537006": "c", "399588009": "p", "399390009": None}
SNOMED_TNM_CODES = {
    "399504009": ("tnm_t", "c"),
    "384625004": ("tnm_t", "p"),
    "78873005": ("tnm_t", None),
    "399534004": ("tnm_n", "c"),
    "371494008": ("tnm_n", "p"),
    "277206009": ("tnm_n", None),
    "399387003": ("tnm_m", "c"),
    "371497001": ("tnm_m", "p"),
    "277208005": ("tnm_m", None),
}
#: mCODE's TNM staging methods as the dictionary's staging systems: AJCC editions other than the 8th are "other".
STAGING_METHODS = {
    (SNOMED, "897275008"): "AJCC8",
    (SNOMED, "444256004"): "other",
    (SNOMED, "443830009"): "other",
    (SNOMED, "1269566009"): "other",
    (NCIT, "C188404"): "other",
}
#: mCODE's radiotherapy modalities (tele- and brachytherapy value sets) as the dictionary's techniques.
RT_MODALITIES_IN = {
    "1156506007": "photons",
    "10611004": "protons",
    "45643008": "other",
    "80347004": "other",
    "1156505006": "other",
    "1156708005": "brachytherapy",
    "169359004": "brachytherapy",
    "1156384006": "brachytherapy",
    "394902000": "brachytherapy",
    "438629002": "brachytherapy",
    "440252007": "radionuclide_other",
}
#: RxNorm ingredient codes of the dictionary's agents (chemo_agents, targeted_agent). A product code (a
#: strength, a form) is not listed: its display names the agent, and the import reads the name there.
RXNORM_AGENTS = {
    "2555": "cisplatin",
    "40048": "carboplatin",
    "32592": "oxaliplatin",
    "3639": "doxorubicin",
    "3995": "epirubicin",
    "4179": "etoposide",
    "11202": "vincristine",
    "11198": "vinblastine",
    "5657": "ifosfamide",
    "3002": "cyclophosphamide",
    "3109": "dactinomycin",
    "4492": "fluorouracil",
    "194000": "capecitabine",
    "51499": "irinotecan",
    "12574": "gemcitabine",
    "72962": "docetaxel",
    "56946": "paclitaxel",
    "3098": "dacarbazine",
    "37776": "temozolomide",
    "282388": "imatinib",
    "357977": "sunitinib",
    "495881": "sorafenib",
    "1424911": "dabrafenib",
    "1425098": "trametinib",
    "1547545": "pembrolizumab",
    "1597876": "nivolumab",
    "1094833": "ipilimumab",
}
#: Words of a surgical procedure's name (its SNOMED CT display, or its text) that tell the dictionary's
#: surgery type: the first type one of whose word groups is all in the name. A "resection" is of the
#: primary tumour unless the procedure's reason is a secondary cancer condition.
SURGERY_WORDS: tuple[tuple[str, tuple[tuple[str, ...], ...]], ...] = (
    ("biopsy_needle", (("biopsy", "needle"), ("biopsy", "core"), ("biopsy", "guidance"), ("biopsy", "percutaneous"))),
    ("biopsy_open", (("biopsy",),)),
    ("lymph_node_dissection", (("lymphadenectomy",), ("lymph node", "dissection"), ("lymph node", "excision"))),
    ("second_look", (("second look",), ("second-look",))),
    ("resection", (("excision",), ("resection",), ("ectomy",), ("removal",), ("amputation",), ("enucleation",))),
)
#: Words of a surgical procedure's name that tell its approach.
APPROACH_WORDS = {
    "minimally_invasive": ("laparoscop", "thoracoscop", "endoscop", "robot"),
    "open": ("open ",),
}


# What the export writes so that each resource meets the mCODE profile it claims (test_fhir_profiles checks it).

CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
NULL_FLAVOR = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"
#: SNOMED CT "radiotherapy course of treatment", the code mCODE's RadiotherapyCourseSummary fixes.
RADIOTHERAPY_COURSE = "1217123003"
#: A staging Observation's category by basis: a pathological stage comes from the specimen, the others
#: from examination and imaging.
STAGE_CATEGORY = {"p": "laboratory", "c": "exam", None: "exam"}
#: mCODE's laterality value set has midline, which the dictionary's choice does not code.
LATERALITY_MORE = {"midline": "399488007"}
#: mCODE's radiotherapy modality for the registry's radionuclide therapies: administration of a radiopharmaceutical.
RT_RADIOPHARMACEUTICAL = {"radioiodine": "440252007", "radionuclide_other": "440252007"}
