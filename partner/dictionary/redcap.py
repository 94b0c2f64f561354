"""The dictionary as a REDCap data dictionary (the 18-column CSV REDCap imports)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from partner.lib.expressions import Condition

from .schema import EU_CDE, FieldDef, FormDef

COLUMNS = [
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
]

#: Fields that identify a child; REDCap marks them so they can be left out of de-identified exports.
IDENTIFIERS = {"date_of_birth"}

_TYPES = {
    "text": ("text", ""),
    "integer": ("text", "integer"),
    "decimal": ("text", "number"),
    "date": ("text", "date_ymd"),
    "boolean": ("yesno", ""),
    "choice": ("dropdown", ""),
    "multichoice": ("checkbox", ""),
    "morphology": ("text", ""),
    "topography": ("text", ""),
    "code": ("text", ""),
}
_NOTES = {
    "morphology": "ICD-O-3 morphology/behaviour, e.g. 8370/3",
    "topography": "ICD-O-3 topography, e.g. C74.0",
}


def variable(f: FieldDef) -> str:
    return f.mappings.redcap or f.code


def _number(x: float | None) -> str:
    if x is None:
        return ""
    return str(int(x)) if float(x).is_integer() else str(x)


#: REDCap's date validations take full dates only: a field accepting partial dates is text, its note
#: and annotation saying the shape, so "2019-05" and "2019" come back as they left.
PARTIAL_DATE_NOTE = "Date: YYYY-MM-DD, or YYYY-MM or YYYY when only the month or the year is known"


def _row(form: FormDef, f: FieldDef, language: str, variables: dict[str, str]) -> list[str]:
    field_type, validation = ("text", "") if f.partial_dates else _TYPES[f.type]
    if f.computed:
        field_type, validation = "text", validation
    choices = " | ".join(f"{c.code}, {c.labels.get(language)}" for c in f.choices)
    notes = [n for n in (f.unit, _NOTES.get(f.type), f.code_system and f"{f.code_system} code") if n]
    if f.partial_dates:
        notes.append(PARTIAL_DATE_NOTE)
    condition = f.show_if
    branching = Condition.parse(condition).to_redcap(lambda name: variables[name.split(".")[-1]]) if condition else ""
    annotations = []
    if f.computed:
        annotations.append("@READONLY")
    if f.mappings.eu_cde:
        annotations.append(f"EU-CDE {f.mappings.eu_cde} ({EU_CDE[f.mappings.eu_cde]})")
    if f.mappings.fhir:
        annotations.append(f"FHIR {f.mappings.fhir}")
    if f.mappings.phenopackets:
        annotations.append(f"Phenopackets {f.mappings.phenopackets}")
    if f.required_if:
        annotations.append(f"required if {f.required_if}")
    if f.partial_dates:
        annotations.append(f"partial date ({', '.join(f.precision)})")
    if form.repeating:
        annotations.append("repeating instrument")
    return [
        variables[f.code],
        form.code,
        f.section.get(language) if f.section else "",
        field_type,
        f.labels.get(language),
        choices,
        "; ".join(notes),
        validation,
        _number(f.min) if validation in ("integer", "number") else "",
        _number(f.max) if validation in ("integer", "number") else "",
        "y" if f.code in IDENTIFIERS else "",
        branching,
        "y" if f.required else "",
        "",
        "",
        "",
        "",
        " ".join(annotations),
    ]


def rows(forms: Iterable[FormDef], language: str = "en") -> list[list[str]]:
    forms = list(forms)
    variables = {f.code: variable(f) for form in forms for f in form.fields}
    # REDCap requires the record identifier as the project's first field.
    out = [["record_id", forms[0].code, "", "text", "Record ID", "", "", "", "", "", "", "", "", "", "", "", "", ""]]
    for form in forms:
        out.extend(_row(form, f, language, variables) for f in form.fields)
    return out


def to_csv(forms: Iterable[FormDef], language: str = "en") -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows(forms, language))
    return buffer.getvalue()
