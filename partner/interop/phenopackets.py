"""A case as a GA4GH Phenopacket (schema v2.0), built with the `phenopackets` protobuf classes.

What goes where:

- subject: the pseudonym as id (names are never stored, so none can leak), date of birth, sex,
  vital status (time and cause of death when dead, survival in days from diagnosis), age at the
  last contact.
- diseases: one Disease for the tumour, see `_disease_term` for its term; onset is the age at the
  onset of symptoms when dated, else the age at diagnosis (EU RD Platform elements 5.1 and 5.2).
  An onset known to the month or the year only is an age range, from the age on its first possible
  day to the age on its last (the first no earlier than birth).
- biosamples: only when the T, N and M categories are pathological (pTNM): the Phenopackets schema
  keeps those on the resected tumour, with its histology and grade.
- medical_actions: one per treatment line, and one per drug for the lines of drugs (chemotherapy,
  targeted therapy, immunotherapy); each names the tumour as its treatment target. Its start
  date is a timestamp, or, when only the month or the year is known, the interval of that month or
  year (first day 00:00 to last day 00:00 UTC): `partial_of_interval` reads it back as "2019-05".

Identifiers (CURIEs), each listed with its resource in meta_data.resources:

- ``ORPHA:1501``: Orphanet, the disease of a VRT entity with a checked ORPHA code.
- ``ICDO3:8370/3`` and ``ICDO3:C74.0``: ICD-O-3 morphology with behaviour, and topography.
- ``NCIT:``, ``SNOMEDCT:``, ``ATC:``: the codes a dictionary choice carries in its `concepts`,
  taken in that order of preference (a drug with an NCIt code is named by it, else by ATC).
- ``PARTNER:<field>.<choice>``: a value of the data dictionary with no external code, e.g.
  ``PARTNER:tnm_t.T2``, ``PARTNER:surgery_type.resection_primary``, ``PARTNER:chemo_agents.irinotecan``;
  stage groups are free text under a staging system: ``PARTNER:stage_group.TNM8.II``. The namespace
  is local to the registry (the resource's version is the dictionary version).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import timezone
from google.protobuf.json_format import MessageToDict
from google.protobuf.timestamp_pb2 import Timestamp
from phenopackets.schema.v2 import (
    Age,
    AgeRange,
    Biosample,
    Disease,
    Individual,
    MedicalAction,
    MetaData,
    OntologyClass,
    Phenopacket,
    Procedure,
    RadiationTherapy,
    Resource,
    Sex,
    TimeElement,
    TimeInterval,
    Treatment,
    VitalStatus,
)

from partner.cases.models import TumourCase
from partner.cases.services import current_forms
from partner.dictionary.loader import Dictionary, get_dictionary
from partner.dictionary.schema import FieldDef
from partner.lib.dates import PartialDate, parse_partial

SCHEMA_VERSION = "2.0"
CREATED_BY = "PARTNER registry"
LOCAL = "PARTNER"

#: Concept systems of the dictionary's choices that are ontologies, by preference, with their prefix.
CONCEPT_PREFIXES = (("ncit", "NCIT"), ("snomed", "SNOMEDCT"), ("atc", "ATC"))

#: prefix -> (id, name, url, iri_prefix, version); a version of None is the dictionary release
#: that fixed the codes, since the dictionary records no release of the external code lists.
RESOURCES: dict[str, tuple[str, str, str, str, str | None]] = {
    "ORPHA": (
        "ordo",
        "Orphanet Rare Disease Ontology",
        "http://www.orpha.net/ORDO/",
        "http://www.orpha.net/ORDO/Orphanet_",
        None,
    ),
    # ICD-O-3 has no IRIs of its own: the HL7 code system URI stands in. Version 3.2, as the
    # dictionary takes ICD-O-3.2 codes (NUT carcinoma, 8023/3).
    "ICDO3": (
        "icdo3",
        "International Classification of Diseases for Oncology, third edition",
        "https://www.who.int/standards/classifications/other-classifications/"
        "international-classification-of-diseases-for-oncology",
        "http://terminology.hl7.org/CodeSystem/icd-o-3#",
        "3.2",
    ),
    "NCIT": (
        "ncit",
        "NCI Thesaurus",
        "http://purl.obolibrary.org/obo/ncit.owl",
        "http://purl.obolibrary.org/obo/NCIT_",
        None,
    ),
    "SNOMEDCT": ("snomedct", "SNOMED CT", "https://www.snomed.org", "http://snomed.info/id/", None),
    "ATC": (
        "atc",
        "Anatomical Therapeutic Chemical Classification System",
        "https://www.whocc.no/atc_ddd_index/",
        "https://www.whocc.no/atc_ddd_index/?code=",
        None,
    ),
    LOCAL: ("partner", "PARTNER data dictionary", "urn:partner:dictionary", "urn:partner:dictionary:", None),
}

#: Choices that say nothing about the patient: left out rather than sent as a term.
UNINFORMATIVE = {"unknown", "not_applicable"}

DRUG_FIELDS = {"chemotherapy": "chemo_agents", "targeted_therapy": "targeted_agent", "immunotherapy": "targeted_agent"}


def case_phenopacket(
    case: TumourCase, dictionary: Dictionary | None = None, created: dt.datetime | None = None
) -> dict[str, Any]:
    """The case as a Phenopacket, in its JSON form (camelCase, as `MessageToDict` gives it).

    The disease term is the entity's ORPHA code when the dictionary gives the entity one, else
    the ORPHA code entered on the diagnosis form, else the ICD-O-3 morphology (``ICDO3:8370/3``).
    Everything but `meta_data.created` (`created`, default now) follows from the case.
    """
    dictionary = dictionary or get_dictionary(case.dictionary_version.number)
    return _Builder(case, dictionary).build(created or timezone.now())


class _Builder:
    def __init__(self, case: TumourCase, dictionary: Dictionary):
        self.case = case
        self.dictionary = dictionary
        self.forms = current_forms(dictionary, case)
        self.diagnosis: dict[str, Any] = self.forms.get("diagnosis") or {}
        self.born = case.patient.date_of_birth
        self.prefixes: set[str] = set()
        self.packet_id = f"partner-case-{case.pk}"

    def build(self, created: dt.datetime) -> dict[str, Any]:
        disease = self._disease()
        packet = Phenopacket(
            id=self.packet_id,
            subject=self._subject(),
            diseases=[disease],
            biosamples=self._biosamples(),
            medical_actions=self._medical_actions(disease.term),
        )
        packet.meta_data.CopyFrom(self._meta_data(created))
        return MessageToDict(packet)

    # --- terms ---------------------------------------------------------------------------------

    def _class(self, prefix: str, reference: str, label: str) -> OntologyClass:
        self.prefixes.add(prefix)
        return OntologyClass(id=f"{prefix}:{reference}", label=label)

    def _field(self, form: str, field: str) -> FieldDef:
        return next(f for f in self.dictionary.form_by_code[form].fields if f.code == field)

    def _choice(self, form: str, field: str, code: str) -> OntologyClass:
        """A dictionary value as a term: its external code when it has one, else the local one."""
        choice = next((c for c in self._field(form, field).choices if c.code == code), None)
        if choice is None:
            return self._class(LOCAL, f"{field}.{code}", str(code))
        for system, prefix in CONCEPT_PREFIXES:
            if system in choice.concepts:
                return self._class(prefix, choice.concepts[system], choice.labels.en)
        return self._class(LOCAL, f"{field}.{code}", choice.labels.en)

    def _optional_choice(self, form: str, field: str, values: dict[str, Any]) -> OntologyClass | None:
        code = values.get(field)
        return self._choice(form, field, code) if code and code not in UNINFORMATIVE else None

    def _enum_concept(self, form: str, field: str, code: str, default: str) -> str:
        """The Phenopackets enum name the dictionary gives a choice (its `phenopackets` concept)."""
        choice = next((c for c in self._field(form, field).choices if c.code == code), None)
        return choice.concepts.get("phenopackets", default) if choice else default

    # --- subject -------------------------------------------------------------------------------

    def _subject(self) -> Individual:
        patient = self.case.patient
        subject = Individual(
            id=patient.pseudonym,
            date_of_birth=_timestamp(self.born),
            sex=Sex.Value(self._enum_concept("registration", "sex", patient.sex, "UNKNOWN_SEX")),
        )
        status: dict[str, Any] = self.forms.get("status") or {}
        if status.get("patient_status"):
            subject.vital_status.CopyFrom(self._vital_status(status))
        if last := _date(status.get("last_contact_date")):
            subject.time_at_last_encounter.CopyFrom(TimeElement(age=Age(iso8601duration=iso_age(self.born, last))))
        return subject

    def _vital_status(self, status: dict[str, Any]) -> VitalStatus:
        name = self._enum_concept("status", "patient_status", status["patient_status"], "UNKNOWN_STATUS")
        vital = VitalStatus(status=VitalStatus.Status.Value(name))
        if vital.status == VitalStatus.DECEASED:
            if died := _date(status.get("date_of_death")):
                vital.time_of_death.CopyFrom(TimeElement(timestamp=_timestamp(died)))
                if self.case.diagnosis_date and died >= self.case.diagnosis_date:
                    vital.survival_time_in_days = (died - self.case.diagnosis_date).days
            if cause := self._optional_choice("status", "cause_of_death", status):
                vital.cause_of_death.CopyFrom(cause)
        return vital

    # --- disease -------------------------------------------------------------------------------

    def _disease_term(self) -> OntologyClass:
        entity = self.dictionary.entity_by_code.get(self.case.entity.code) if self.case.entity else None
        name = entity.names.en if entity else None
        if entity and entity.orpha:
            return self._class("ORPHA", str(entity.orpha), entity.names.en)
        if orpha := self.diagnosis.get("orpha_code"):
            return self._class("ORPHA", orpha.removeprefix("ORPHA:"), name or orpha)
        return self._morphology(name)

    def _morphology(self, name: str | None = None) -> OntologyClass:
        code = self.case.morphology
        return self._class("ICDO3", code, name or f"ICD-O-3 morphology {code}")

    def _disease(self) -> Disease:
        disease = Disease(term=self._disease_term())
        partial = parse_partial(self.diagnosis.get("onset_date"))
        if partial is not None and not partial.is_full:
            first, last = max(partial.earliest, self.born), max(partial.latest, self.born)
            ages = AgeRange(
                start=Age(iso8601duration=iso_age(self.born, first)), end=Age(iso8601duration=iso_age(self.born, last))
            )
            disease.onset.CopyFrom(TimeElement(age_range=ages))
        elif onset := (partial.earliest if partial else None) or self.case.diagnosis_date:
            disease.onset.CopyFrom(TimeElement(age=Age(iso8601duration=iso_age(self.born, onset))))
        if stage := self._stage():
            disease.disease_stage.append(stage)
        if not self._pathological_tnm():
            disease.clinical_tnm_finding.extend(self._tnm())
        if self.case.topography:
            disease.primary_site.CopyFrom(self._site())
        if laterality := self._optional_choice("diagnosis", "laterality", self.diagnosis):
            disease.laterality.CopyFrom(laterality)
        return disease

    def _site(self) -> OntologyClass:
        return self._class("ICDO3", self.case.topography, f"ICD-O-3 topography {self.case.topography}")

    def _stage(self) -> OntologyClass | None:
        system, group = self.diagnosis.get("stage_system"), self.diagnosis.get("stage_group")
        if not system or not group or system == "not_staged":
            return None
        system_label = self._choice("diagnosis", "stage_system", system).label
        # Stage groups are free text ("IIA", "Stage 2"): kept readable in the label, made a safe CURIE reference.
        reference = re.sub(r"[^A-Za-z0-9_.+-]", "_", str(group).strip())
        return self._class(LOCAL, f"stage_group.{system}.{reference}", f"{system_label}: stage {group}")

    def _pathological_tnm(self) -> bool:
        return self.diagnosis.get("tnm_basis") == "p"

    def _tnm(self) -> list[OntologyClass]:
        return [
            self._choice("diagnosis", field, self.diagnosis[field])
            for field in ("tnm_t", "tnm_n", "tnm_m")
            if self.diagnosis.get(field)
        ]

    def _biosamples(self) -> list[Biosample]:
        tnm = self._tnm() if self._pathological_tnm() else []
        if not tnm:
            return []
        sample = Biosample(
            id=f"{self.packet_id}-primary-tumour",
            individual_id=self.case.patient.pseudonym,
            histological_diagnosis=self._morphology(),
            pathological_tnm_finding=tnm,
        )
        if self.case.topography:
            sample.sampled_tissue.CopyFrom(self._site())
        grade = self.diagnosis.get("grade")
        if grade and grade != "9":  # 9: not determined
            sample.tumor_grade.CopyFrom(self._choice("diagnosis", "grade", grade))
        return [sample]

    # --- medical actions -----------------------------------------------------------------------

    def _medical_actions(self, target: OntologyClass) -> list[MedicalAction]:
        actions: list[MedicalAction] = []
        for line in self.forms.get("treatment") or []:
            for action in self._line(line):
                action.treatment_target.CopyFrom(target)
                for field, into in (
                    ("treatment_intent", action.treatment_intent),
                    ("treatment_response", action.response_to_treatment),
                    ("end_reason", action.treatment_termination_reason),
                ):
                    if term := self._optional_choice("treatment", field, line):
                        into.CopyFrom(term)
                if line.get("severe_toxicity") is True:
                    label = self._field("treatment", "severe_toxicity").labels.en
                    action.adverse_events.append(self._class(LOCAL, "severe_toxicity", label))
                actions.append(action)
        return actions

    def _line(self, line: dict[str, Any]) -> list[MedicalAction]:
        kind = line.get("line_type", "other")
        if kind in DRUG_FIELDS:
            drugs = line.get(DRUG_FIELDS[kind]) or []
            agents = [self._choice("treatment", DRUG_FIELDS[kind], d) for d in drugs]
            agents = agents or [self._choice("treatment", "line_type", kind)]
            return [MedicalAction(treatment=Treatment(agent=agent)) for agent in agents]
        if kind == "radiotherapy":
            therapy = RadiationTherapy(modality=self._radiotherapy_modality(line))
            if line.get("rt_total_dose") is not None:
                # The schema counts the dose in whole Gy (int32).
                dose = Decimal(str(line["rt_total_dose"])).quantize(Decimal(1), rounding=ROUND_HALF_UP)
                therapy.dosage = int(dose)
            if line.get("rt_fractions") is not None:
                therapy.fractions = int(line["rt_fractions"])
            return [MedicalAction(radiation_therapy=therapy)]
        if kind == "surgery" and line.get("surgery_type"):
            code = self._choice("treatment", "surgery_type", line["surgery_type"])
        else:
            code = self._choice("treatment", "line_type", kind)
        procedure = Procedure(code=code)
        started = parse_partial(line.get("treatment_start_date"))
        if started is not None and started.is_full:
            procedure.performed.CopyFrom(TimeElement(timestamp=_timestamp(started.earliest)))
        elif started is not None:
            period = TimeInterval(start=_timestamp(started.earliest), end=_timestamp(started.latest))
            procedure.performed.CopyFrom(TimeElement(interval=period))
        return [MedicalAction(procedure=procedure)]

    def _radiotherapy_modality(self, line: dict[str, Any]) -> OntologyClass:
        if line.get("rt_technique"):
            return self._choice("treatment", "rt_technique", line["rt_technique"])
        return self._choice("treatment", "line_type", "radiotherapy")

    # --- meta data -----------------------------------------------------------------------------

    def _meta_data(self, created: dt.datetime) -> MetaData:
        release = f"PARTNER dictionary {self.dictionary.number} ({self.dictionary.release.released.isoformat()})"
        resources = []
        for prefix in sorted(self.prefixes):
            rid, name, url, iri_prefix, version = RESOURCES[prefix]
            if prefix == LOCAL:
                version = str(self.dictionary.number)
            resources.append(
                Resource(
                    id=rid,
                    name=name,
                    url=url,
                    version=version or release,
                    namespace_prefix=prefix,
                    iri_prefix=iri_prefix,
                )
            )
        stamp = Timestamp()
        stamp.FromDatetime(created if timezone.is_aware(created) else timezone.make_aware(created, dt.UTC))
        return MetaData(
            created=stamp,
            created_by=CREATED_BY,
            phenopacket_schema_version=SCHEMA_VERSION,
            resources=resources,
        )


def iso_age(born: dt.date, on: dt.date) -> str:
    """The age on a date as an ISO 8601 duration of completed years, months and days: P11Y9M6D."""
    months = (on.year - born.year) * 12 + on.month - born.month - (on.day < born.day)
    year, month = divmod(born.month - 1 + months, 12)
    year += born.year
    # The monthly anniversary falls on the month's last day when the month is shorter (born on the 31st).
    anniversary = dt.date(year, month + 1, min(born.day, calendar.monthrange(year, month + 1)[1]))
    years, months = divmod(months, 12)
    parts = [(years, "Y"), (months, "M"), ((on - anniversary).days, "D")]
    return "P" + ("".join(f"{n}{unit}" for n, unit in parts if n) or "0D")


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def partial_of_interval(interval: dict[str, str]) -> str | None:
    """The month ("2019-05") or year ("2019") that an exported interval (as JSON) covers exactly, else None."""
    start = dt.datetime.fromisoformat(interval["start"].replace("Z", "+00:00")).date()
    end = dt.datetime.fromisoformat(interval["end"].replace("Z", "+00:00")).date()
    for candidate in (PartialDate(start.year, start.month), PartialDate(start.year)):
        if (candidate.earliest, candidate.latest) == (start, end):
            return candidate.iso
    return None


def _timestamp(day: dt.date) -> Timestamp:
    return Timestamp(seconds=calendar.timegm(day.timetuple()))
