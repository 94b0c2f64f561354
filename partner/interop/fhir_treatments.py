"""Treatment lines as FHIR resources and back.

A surgery, a radiotherapy course (with a RadiotherapyVolume for its site) or another treatment is a
Procedure; a line of drugs is one MedicationRequest per agent, the line's requests sharing a group
identifier. `TreatmentWriting` writes them for the export, `TreatmentReading` reads them back for the
import (a MedicationAdministration too).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fhir.resources.R4B.bodystructure import BodyStructure
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.procedure import Procedure

from .fhir_bundle import BundleReader, BundleWriter, Record, code_of, day_of, extension_of, profiles_of
from .fhir_vocabulary import (
    DATA_ABSENT_EXT,
    DOSE_EXT,
    INTENT_EXT,
    MEDICATION_FIELDS,
    MEDICATION_PROFILE,
    MODALITY_EXT,
    MODALITY_TECHNIQUE_EXT,
    PROCEDURE_LINES,
    RADIOTHERAPY_CATEGORY,
    RADIOTHERAPY_PROFILE,
    RT_MODALITY,
    SNOMED,
    SURGERY_CATEGORY,
    SURGERY_PROFILE,
    UCUM,
    URI,
    VOLUME_PROFILE,
    system_of,
)

_AGENT_FIELDS = ("chemo_agents", "targeted_agent")


class TreatmentWriting(BundleWriter):
    def intent(self, line: dict[str, Any]) -> list[dict[str, Any]]:
        if not line.get("treatment_intent"):
            return []
        return [
            {
                "url": INTENT_EXT,
                "valueCodeableConcept": self.concept("treatment", "treatment_intent", line["treatment_intent"]),
            }
        ]

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
