"""Treatment lines as FHIR resources and back.

A surgery, a radiotherapy course (with a RadiotherapyVolume for its site) or another treatment is a
Procedure; a line of drugs is one MedicationRequest per agent, the line's requests sharing a group
identifier. `TreatmentWriting` writes them for the export; fhir_treatments_in reads them back.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from fhir.resources.R4B.bodystructure import BodyStructure
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.procedure import Procedure

from .fhir_bundle import BundleWriter
from .fhir_vocabulary import (
    DATA_ABSENT_EXT,
    DOSE_EXT,
    INTENT_EXT,
    MEDICATION_FIELDS,
    MEDICATION_PROFILE,
    MODALITY_EXT,
    MODALITY_TECHNIQUE_EXT,
    NULL_FLAVOR,
    PROCEDURE_LINES,
    RADIOTHERAPY_CATEGORY,
    RADIOTHERAPY_COURSE,
    RADIOTHERAPY_PROFILE,
    RT_MODALITY,
    RT_RADIOPHARMACEUTICAL,
    SNOMED,
    SURGERY_CATEGORY,
    SURGERY_PROFILE,
    TECHNIQUE_EXT,
    UCUM,
    URI,
    VOLUME_PROFILE,
)


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
            data["code"] = {"coding": [{"system": SNOMED, "code": RADIOTHERAPY_COURSE}]}
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
            extensions.append({"url": MODALITY_TECHNIQUE_EXT, "extension": self.modality(line["rt_technique"])})
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

    def modality(self, technique: str) -> list[dict[str, Any]]:
        """mCODE's modality for the registry's technique, and a technique where mCODE wants one with it.

        A modality mCODE has no code for (brachytherapy of unknown dose rate, other) is NullFlavor UNC
        with its name; a modality that mCODE pairs with a technique gets UNC for it, as the registry
        does not record one.
        """
        modality = self.concept("treatment", "rt_technique", technique)
        code = RT_MODALITY.get(technique) or RT_RADIOPHARMACEUTICAL.get(technique)
        if code is None:
            modality["coding"].append({"system": NULL_FLAVOR, "code": "UNC"})
            modality["text"] = modality["coding"][0].get("display", technique)
            return [{"url": MODALITY_EXT, "valueCodeableConcept": modality}]
        modality["coding"].append({"system": SNOMED, "code": code})
        unknown = {"coding": [{"system": NULL_FLAVOR, "code": "UNC"}], "text": "not recorded"}
        return [
            {"url": MODALITY_EXT, "valueCodeableConcept": modality},
            {"url": TECHNIQUE_EXT, "valueCodeableConcept": unknown},
        ]

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
            # US Core wants the prescriber of an order (us-core-21); the registry does not know it.
            "requester": {"extension": [{"url": DATA_ABSENT_EXT, "valueCode": "unknown"}]},
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
