"""Staging read from a bundle: the stage group and the T, N and M categories, coded by LOINC or SNOMED CT.

The registry's own export codes the staging Observations with LOINC and gives the values as written
("III", "T3"). mCODE STU4 senders code them with SNOMED CT (399537006 clinical TNM stage grouping,
399504009 cT category...) and give the value as a SNOMED CT concept ("American Joint Committee on
Cancer stage IIB") or an AJCC code (system http://cancerstaging.org: "2B", "cT3"). SNOMED CT has one
concept per AJCC value and no terminology server is at hand here, so the value is read from the
coding's display (or the concept's text); a value that cannot be read is left out, with a line in
the report, and so is its staging system (a system without its stage would be refused).
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _

from .fhir_bundle import BundleReader, code_of, codings_of
from .fhir_vocabulary import (
    AJCC,
    DATA_ABSENT,
    LOINC,
    SNOMED,
    SNOMED_STAGE_CODES,
    SNOMED_TNM_CODES,
    STAGE_CODES,
    STAGING_METHODS,
    TNM_CODES,
    TNM_SYSTEMS,
    field_def,
)

_LOINC_STAGE = {code: basis for basis, code in STAGE_CODES.items()}
_LOINC_TNM = {code: (field, basis) for field, (_profile, codes) in TNM_CODES.items() for basis, code in codes.items()}
_ROMAN = {"0": "0", "1": "I", "2": "II", "3": "III", "4": "IV"}
_STAGE_WORDS = re.compile(r"\bstage\s+(0|IV|I{1,3}|[0-4])([A-D]\d?|is)?\b", re.IGNORECASE)
_AJCC_STAGE = re.compile(r"(0|IV|I{1,3}|[0-4])([A-D]\d?|is)?", re.IGNORECASE)
#: A T, N or M category as AJCC and SNOMED CT write it: an optional prefix (c, p, yc, yp, rc, rp, a) then the category.
_CATEGORY = {
    letter: re.compile(rf"(?<![A-Za-z])(?:[yra]?[cp])?({letter}(?:is|X|[0-4][a-d]?|mi))(?![A-Za-z0-9])")
    for letter in "TNM"
}


def stage_text(coding: dict[str, Any]) -> str | None:
    """The stage group a SNOMED CT or AJCC coding gives, as the registry writes it ("IIB"); None if unreadable."""
    if coding.get("system") == AJCC and coding.get("code"):
        found = _AJCC_STAGE.fullmatch(str(coding["code"]).strip())
    else:
        found = _STAGE_WORDS.search(coding.get("display") or "")
    if found is None:
        return None
    group, sub = found.group(1).upper(), found.group(2) or ""
    return _ROMAN.get(group, group) + (sub if sub == "is" else sub.upper())


def category_text(coding: dict[str, Any], letter: str) -> str | None:
    """The T, N or M category a SNOMED CT or AJCC coding gives, without its prefix ("T3" for "cT3")."""
    text = str(coding.get("code") or "") if coding.get("system") == AJCC else coding.get("display") or ""
    found = _CATEGORY[letter].search(text)
    return found.group(1) if found else None


class StagingReading(BundleReader):
    def staging(self, observation: dict[str, Any]) -> bool:
        """Read a staging Observation (stage group or T, N, M category); False if it is none."""
        loinc, snomed = code_of(observation.get("code"), LOINC), code_of(observation.get("code"), SNOMED)
        if loinc in _LOINC_STAGE:
            self.stage_group(observation, _LOINC_STAGE[loinc])
        elif snomed in SNOMED_STAGE_CODES:
            self.stage_group(observation, SNOMED_STAGE_CODES[snomed])
        elif loinc in _LOINC_TNM:
            self.category(observation, *_LOINC_TNM[loinc])
        elif snomed in SNOMED_TNM_CODES:
            self.category(observation, *SNOMED_TNM_CODES[snomed])
        else:
            return False
        return True

    def staging_system(self, observation: dict[str, Any]) -> str | None:
        method = observation.get("method")
        system = self.choice(method, "diagnosis", "stage_system")
        if system is None:
            system = next(
                (STAGING_METHODS.get((str(c.get("system")), str(c.get("code")))) for c in codings_of(method)), None
            )
            if system == "other":
                display = next((c.get("display") for c in codings_of(method) if c.get("display")), "")
                self.leave(observation, "method", _("not a staging system of the dictionary: taken as other"), display)
        return system

    def stage_group(self, observation: dict[str, Any], basis: str | None) -> None:
        value = observation.get("valueCodeableConcept")
        codings = codings_of(value)
        standard = [c for c in codings if c.get("system") in (SNOMED, AJCC)]
        group = (value or {}).get("text") or next((g for c in standard if (g := stage_text(c))), None)
        group = group or next((c.get("code") for c in codings if c not in standard), None)
        if group is None and standard:
            text = ", ".join(str(c.get("display") or c.get("code")) for c in standard)
            why = _("no stage group read from the value (a SNOMED CT coding is read by its display)")
            self.leave(observation, "valueCodeableConcept", why, text)
            return
        system = self.staging_system(observation)
        self.put("diagnosis", "stage_system", system, self.where(observation, "method"))
        self.put("diagnosis", "stage_group", group, self.where(observation, "valueCodeableConcept"))
        if system in TNM_SYSTEMS and basis:
            self.put("diagnosis", "tnm_basis", basis, self.where(observation, "code"))

    def category(self, observation: dict[str, Any], field: str, basis: str | None) -> None:
        value = observation.get("valueCodeableConcept")
        where = self.where(observation, "valueCodeableConcept")
        absent = code_of(value, DATA_ABSENT)
        if absent is not None:
            self.leave(
                observation, "valueCodeableConcept", _("no value given (data absent: %(reason)s)") % {"reason": absent}
            )
            return
        category = self.choice(value, "diagnosis", field)
        if category is None:
            letter = field[-1].upper()
            read = next((t for c in codings_of(value) if (t := category_text(c, letter))), None)
            if read is None and not any(c.get("system") in (SNOMED, AJCC) for c in codings_of(value)):
                read = next((c.get("code") for c in codings_of(value)), None)  # the registry's way: "T3" as written
            choices = {c.code.casefold(): c.code for c in field_def(self.dictionary, "diagnosis", field).choices}
            category = choices.get((read or "").casefold())
            if category is None:
                shown = read or ", ".join(str(c.get("display") or c.get("code")) for c in codings_of(value))
                self.leave(
                    observation,
                    "valueCodeableConcept",
                    _("not a %(letter)s category of the dictionary") % {"letter": letter},
                    shown,
                )
                return
        self.put("diagnosis", field, category, where)
        self.put("diagnosis", "tnm_basis", basis, self.where(observation, "code"), keep=True)
        system = self.staging_system(observation)
        if system is not None:
            self.put("diagnosis", "stage_system", system, self.where(observation, "method"), keep=True)

    def condition_stage(self, condition: dict[str, Any]) -> None:
        """The stage a Condition summarises (Condition.stage), for a sender with no staging Observation;
        a staging Observation's stage is taken before it."""
        for number, stage in enumerate(condition.get("stage", [])):
            element = f"stage[{number}].summary"
            group = next((g for c in codings_of(stage.get("summary")) if (g := stage_text(c))), None)
            given = self.single.get("diagnosis")
            if given is not None and "stage_group" in given.values:
                if group is not None and group != given.values["stage_group"]:
                    why = _("the stage group Observation's stage was taken: %(stage)s") % {
                        "stage": given.values["stage_group"]
                    }
                    self.leave(condition, element, why, group)
                continue
            if group is None:
                if stage.get("summary"):
                    why = _("no stage group read from the value (a SNOMED CT coding is read by its display)")
                    self.leave(
                        condition,
                        element,
                        why,
                        ", ".join(str(c.get("display") or c.get("code")) for c in codings_of(stage.get("summary"))),
                    )
                continue
            kind = stage.get("type")
            system = next(
                (STAGING_METHODS.get((str(c.get("system")), str(c.get("code")))) for c in codings_of(kind)), None
            )
            self.put("diagnosis", "stage_system", system, self.where(condition, f"stage[{number}].type"))
            self.put("diagnosis", "stage_group", group, self.where(condition, element))
