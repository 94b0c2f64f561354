"""Treatment lines read from FHIR resources, for the import.

A surgery, a radiotherapy course or another treatment is a Procedure; a line of drugs is one
MedicationRequest (or MedicationAdministration) per agent, the line's requests sharing a group
identifier. `TreatmentReading` reads them; fhir_treatments writes them.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from .fhir_bundle import BundleReader, Record, code_of, codings_of, day_of, extension_of, profiles_of
from .fhir_vocabulary import (
    APPROACH_WORDS,
    DATA_ABSENT_EXT,
    DOSE_EXT,
    INTENT_EXT,
    MEDICATION_FIELDS,
    MODALITY_EXT,
    MODALITY_TECHNIQUE_EXT,
    RADIOTHERAPY_CATEGORY,
    RADIOTHERAPY_PROFILE,
    RT_MODALITIES_IN,
    RXNORM,
    RXNORM_AGENTS,
    SECONDARY_PROFILE,
    SNOMED,
    SURGERY_CATEGORY,
    SURGERY_PROFILE,
    SURGERY_WORDS,
    field_def,
    system_of,
)

_AGENT_FIELDS = ("chemo_agents", "targeted_agent")
_SEMANTIC_TAG = re.compile(r"\s*\((procedure|body structure|qualifier value)\)\s*$")


def name_of(concept: dict[str, Any] | None) -> str:
    """What a CodeableConcept says in words: its text, else its first display, without SNOMED CT's semantic tag."""
    concept = concept or {}
    text = concept.get("text") or next((c["display"] for c in codings_of(concept) if c.get("display")), "")
    return _SEMANTIC_TAG.sub("", str(text)).strip()


def surgery_type_of(name: str, secondary: bool) -> str | None:
    words = name.casefold()
    for kind, groups in SURGERY_WORDS:
        if any(all(w in words for w in group) for group in groups):
            if kind == "resection":
                return "resection_metastasis" if secondary else "resection_primary"
            return kind
    return None


class TreatmentReading(BundleReader):
    def treatment(self) -> None:
        groups: dict[Any, Record] = {}
        for resource in self.resources:
            if resource["resourceType"] == "Procedure":
                self.procedure(resource)
            elif resource["resourceType"] in ("MedicationRequest", "MedicationAdministration"):
                request = self.resolve([resource.get("request") or {}])
                if resource["resourceType"] == "MedicationAdministration" and request:
                    self.covered.add(id(resource))  # the request it carries out is the line
                    continue
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
            why = _("not a treatment line: no mCODE surgical procedure or radiotherapy course, no line's category")
            self.leave(procedure, "code", why, name_of(procedure.get("code")))
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
            self.surgery(procedure, line)
        elif kind == "radiotherapy":
            self.radiotherapy(procedure, line)
        elif kind == "other":
            self.put(line, "other_treatment", procedure.get("code", {}).get("text"), where(procedure, "code.text"))

    def surgery(self, procedure: dict[str, Any], line: Record) -> None:
        code, where = procedure.get("code"), self.where
        surgery = self.choice(code, "treatment", "surgery_type")
        # Another sender's procedure is read by its name; the registry's own says all it has in its codings.
        name = "" if code_of(code, system_of("treatment", "surgery_type")) else name_of(code)
        if surgery is None and name:
            secondary = any(SECONDARY_PROFILE in profiles_of(r) for r in self.resolve(procedure.get("reasonReference")))
            surgery = surgery_type_of(name, secondary) or "other"
        self.put(line, "surgery_type", surgery, where(procedure, "code"))
        approach = self.choice(code, "treatment", "surgery_approach")
        if approach is None and name:
            approach = next(
                (a for a, words in APPROACH_WORDS.items() if any(w in name.casefold() for w in words)), None
            )
        self.put(line, "surgery_approach", approach, where(procedure, "code"))
        outcome = procedure.get("outcome")
        if outcome:
            margin = self.choice(outcome, "treatment", "resection_margin")
            if margin is None:
                self.leave(
                    procedure,
                    "outcome",
                    _("not a resection margin (R0, R1, R2, RX) of the dictionary"),
                    name_of(outcome),
                )
            self.put(line, "resection_margin", margin, where(procedure, "outcome"))

    def radiotherapy(self, procedure: dict[str, Any], line: Record) -> None:
        where = self.where(procedure, "extension:modalityAndTechnique")
        taken = None
        for extension in procedure.get("extension", []):
            if extension.get("url") != MODALITY_TECHNIQUE_EXT:
                continue
            modality = extension_of(extension, MODALITY_EXT).get("valueCodeableConcept")
            technique = self.choice(modality, "treatment", "rt_technique") or RT_MODALITIES_IN.get(
                code_of(modality, SNOMED) or ""
            )
            if technique is None:
                self.leave(
                    procedure,
                    "extension:modalityAndTechnique",
                    _("not a technique of the dictionary"),
                    name_of(modality),
                )
            elif taken is None:
                taken = technique
                self.put(line, "rt_technique", technique, where)
            elif technique != taken:
                why = _("the dictionary records one technique per line: %(technique)s was taken") % {"technique": taken}
                self.leave(procedure, "extension:modalityAndTechnique", why, name_of(modality))
        self.volumes(procedure, line)

    def volumes(self, procedure: dict[str, Any], line: Record) -> None:
        """Every volume's name goes to the site; the dose and fractions are those of the main (highest-dose) volume."""
        where = self.where(procedure, "extension:doseDeliveredToVolume")
        given = []
        for extension in procedure.get("extension", []):
            if extension.get("url") != DOSE_EXT:
                continue
            quantity = extension_of(extension, "totalDoseDelivered").get("valueQuantity") or {}
            gy = None
            if quantity.get("value") is not None:
                gy = Decimal(str(quantity["value"]))
                gy = gy / 100 if quantity.get("code", quantity.get("unit")) == "cGy" else gy
            fractions = extension_of(extension, "fractionsDelivered").get("valueUnsignedInt")
            reference = extension_of(extension, "volume").get("valueReference") or {}
            volume = self.resolve([reference])
            name = ""
            if volume:
                name = volume[0].get("description") or name_of(volume[0].get("location"))
                self.covered.add(id(volume[0]))
            elif reference.get("reference"):
                self.leave(
                    procedure, "extension:doseDeliveredToVolume.volume", _("not in the bundle"), reference["reference"]
                )
            given.append((gy, fractions, name))
        if given:
            main = max(range(len(given)), key=lambda i: given[i][0] or Decimal(-1))
            gy, fractions = given[main][:2]
            self.put(line, "rt_total_dose", float(gy) if gy is not None else None, f"{where}.totalDoseDelivered")
            self.put(line, "rt_fractions", fractions, f"{where}.fractionsDelivered")
            for number, (other_gy, other_fractions, name) in enumerate(given):
                if number != main and (other_gy is not None or other_fractions is not None):
                    why = _("the dictionary records the dose to the main volume only")
                    value = f"{name or 'volume ' + str(number + 1)}: {other_gy} Gy in {other_fractions} fractions"
                    self.leave(procedure, "extension:doseDeliveredToVolume", why, value)
        names = [name for _gy, _fractions, name in given if name]
        if names:
            self.put(
                line,
                "rt_site",
                self.site(procedure, names),
                self.where(procedure, "extension:doseDeliveredToVolume.volume"),
            )
        elif procedure.get("bodySite"):
            sites = [name_of(site) for site in procedure["bodySite"] if name_of(site)]
            self.put(line, "rt_site", self.site(procedure, sites) if sites else None, self.where(procedure, "bodySite"))

    def site(self, procedure: dict[str, Any], names: list[str]) -> str:
        """The names of the sites irradiated, as many as the field holds; the rest are said left out."""
        limit = field_def(self.dictionary, "treatment", "rt_site").max_length or 100
        kept: list[str] = []
        for name in names:
            if len("; ".join([*kept, name])) <= limit:
                kept.append(name)
            else:
                self.leave(
                    procedure,
                    "extension:doseDeliveredToVolume.volume",
                    _("the site holds %(limit)d characters") % {"limit": limit},
                    name,
                )
        return "; ".join(kept)

    def agent(self, medication: dict[str, Any] | None) -> tuple[str, str] | None:
        """The dictionary's field and agent a medication is: its own coding, ATC, RxNorm, or the agent's name."""
        for field in _AGENT_FIELDS:
            own = code_of(medication, system_of("treatment", field))
            if own is not None:
                return field, own
        for field in _AGENT_FIELDS:
            standard = self.choice(medication, "treatment", field)
            if standard is not None:
                return field, standard
        named = RXNORM_AGENTS.get(code_of(medication, RXNORM) or "")
        words = " ".join(
            [str((medication or {}).get("text") or "")] + [str(c.get("display") or "") for c in codings_of(medication)]
        )
        for field in _AGENT_FIELDS:
            for choice in field_def(self.dictionary, "treatment", field).choices:
                if choice.code == "other":
                    continue
                if choice.code == named or re.search(rf"\b{re.escape(choice.code)}\b", words, re.IGNORECASE):
                    return field, choice.code
        return None

    def medication(self, resource: dict[str, Any], groups: dict[Any, Record]) -> None:
        medication = resource.get("medicationCodeableConcept")
        found = self.agent(medication)
        field, agent = found if found else (None, None)
        category = resource.get("category")
        kind = self.choice(category[0] if isinstance(category, list) else category, "treatment", "line_type")
        if found is None and kind is None and (codings_of(medication) or (medication or {}).get("text")):
            kind = "other"  # a drug the dictionary does not list is no chemotherapy by default (a hormone therapy...)
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
        elif line.values.get("line_type") == "other":
            name = name_of(medication) or next((str(c.get("code")) for c in codings_of(medication)), "")
            named = ", ".join(n for n in (line.values.get("other_treatment"), name) if n)
            self.put(line, "other_treatment", named, where(resource, "medicationCodeableConcept"))
            why = _("not one of the dictionary's agents: recorded as another treatment, named in other_treatment")
            self.leave(resource, "medicationCodeableConcept", why, name, kept=True)
        else:
            name = name_of(medication) or next((str(c.get("code")) for c in codings_of(medication)), "")
            self.leave(resource, "medicationCodeableConcept", _("not one of the dictionary's agents"), name)
