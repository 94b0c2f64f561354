"""Treatment lines read from FHIR resources, for the import.

A surgery, a radiotherapy course or another treatment is a Procedure; a line of drugs is one
MedicationRequest (or MedicationAdministration) per agent, the line's requests sharing a group
identifier. `TreatmentReading` reads them; fhir_treatments writes them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .fhir_bundle import BundleReader, Record, code_of, day_of, extension_of, profiles_of
from .fhir_vocabulary import (
    DATA_ABSENT_EXT,
    DOSE_EXT,
    INTENT_EXT,
    MEDICATION_FIELDS,
    MODALITY_EXT,
    MODALITY_TECHNIQUE_EXT,
    RADIOTHERAPY_CATEGORY,
    RADIOTHERAPY_PROFILE,
    RT_MODALITY,
    SNOMED,
    SURGERY_CATEGORY,
    SURGERY_PROFILE,
    system_of,
)

_AGENT_FIELDS = ("chemo_agents", "targeted_agent")


class TreatmentReading(BundleReader):
    def treatment(self) -> None:
        groups: dict[Any, Record] = {}
        for resource in self.resources:
            if resource["resourceType"] == "Procedure":
                self.procedure(resource)
            elif resource["resourceType"] in ("MedicationRequest", "MedicationAdministration"):
                self.medication(resource, groups)

    def intent(self, resource: dict[str, Any], line: Record) -> None:
        intent = extension_of(resource, INTENT_EXT).get("valueCodeableConcept")
        if intent:
            value = self.choice(intent, "treatment", "treatment_intent")
            self.put(line, "treatment_intent", value, self.where(resource, "extension:treatmentIntent"))

    def procedure(self, procedure: dict[str, Any]) -> None:
        category, profiles = procedure.get("category"), profiles_of(procedure)
        kind = self.choice(category, "treatment", "line_type")
        if kind is None and (SURGERY_PROFILE in profiles or code_of(category, SNOMED) == SURGERY_CATEGORY):
            kind = "surgery"
        elif kind is None and (RADIOTHERAPY_PROFILE in profiles or code_of(category, SNOMED) == RADIOTHERAPY_CATEGORY):
            kind = "radiotherapy"
        untyped = kind is None and bool(extension_of(category or {}, DATA_ABSENT_EXT))  # a line of unknown type
        if kind not in ("surgery", "radiotherapy", "other") and not untyped:
            return
        where = self.where
        line = self.new_record("treatment", procedure, "category")
        period = procedure.get("performedPeriod", {})
        self.put(line, "line_type", kind, where(procedure, "category"))
        if period.get("start"):
            self.put(line, "treatment_start_date", day_of(period["start"]), where(procedure, "performedPeriod.start"))
        else:
            start = day_of(procedure.get("performedDateTime"))
            self.put(line, "treatment_start_date", start, where(procedure, "performedDateTime"))
        self.put(line, "treatment_end_date", day_of(period.get("end")), where(procedure, "performedPeriod.end"))
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

    def radiotherapy(self, procedure: dict[str, Any], line: Record) -> None:
        modality = extension_of(extension_of(procedure, MODALITY_TECHNIQUE_EXT), MODALITY_EXT).get(
            "valueCodeableConcept"
        )
        if modality:
            snomed = {code: technique for technique, code in RT_MODALITY.items()}
            technique = self.choice(modality, "treatment", "rt_technique") or snomed.get(
                code_of(modality, SNOMED) or ""
            )
            self.put(line, "rt_technique", technique, self.where(procedure, "extension:modalityAndTechnique"))
        dose = extension_of(procedure, DOSE_EXT)
        where = self.where(procedure, "extension:doseDeliveredToVolume")
        quantity = extension_of(dose, "totalDoseDelivered").get("valueQuantity")
        if quantity and quantity.get("value") is not None:
            gy = Decimal(str(quantity["value"]))
            gy = gy / 100 if quantity.get("code", quantity.get("unit")) == "cGy" else gy
            self.put(line, "rt_total_dose", float(gy), f"{where}.totalDoseDelivered")
        fractions = extension_of(dose, "fractionsDelivered").get("valueUnsignedInt")
        self.put(line, "rt_fractions", fractions, f"{where}.fractionsDelivered")
        volume = self.resolve([extension_of(dose, "volume").get("valueReference", {})])
        if volume:
            self.put(line, "rt_site", volume[0].get("description"), self.where(volume[0], "description"))

    def medication(self, resource: dict[str, Any], groups: dict[Any, Record]) -> None:
        medication = resource.get("medicationCodeableConcept")
        field = next((f for f in _AGENT_FIELDS if code_of(medication, system_of("treatment", f)) is not None), None)
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
        start, end = day_of(period.get("start")), day_of(period.get("end"))
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
