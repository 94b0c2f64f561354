"""A REDCap data dictionary (the 18-column CSV) as a draft tumour module of this dictionary.

A national group brings its REDCap project's variables; the result is a module file to review, to
translate and to add to the next dictionary version (a loaded version never changes). What REDCap
has and this dictionary does not (calculated fields, files, sliders, checkbox branching) is left
out and listed, never guessed.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from partner.lib.expressions import Condition, ExpressionError

from .schema import FormDef

LANGUAGES = ("en", "it", "fr", "de", "pl")
_VALIDATION_TYPES = {
    "integer": "integer",
    "number": "decimal",
    "date_ymd": "date",
    "date_dmy": "date",
    "date_mdy": "date",
}
_NUMBER_DP = re.compile(r"^number_(\d)dp(_comma_decimal)?$")
_VARIABLE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_CHOICE_CODE = re.compile(r"^[A-Za-z0-9_.+-]{1,40}$")


class RedcapError(ValueError):
    pass


@dataclass
class Conversion:
    module: dict[str, Any]
    left_out: list[str] = field(default_factory=list)  # "row N, variable: why", for the person reviewing it


def _labels(text: str) -> dict[str, str]:
    """REDCap has one language: every language gets it, to be translated before the module is loaded."""
    clean = re.sub(r"<[^>]+>", "", text).strip()
    return dict.fromkeys(LANGUAGES, clean)


def _choices(text: str, where: str) -> list[dict[str, Any]]:
    choices = []
    for part in text.split("|"):
        code, comma, label = part.strip().partition(",")
        if not comma or not code.strip() or not label.strip():
            raise RedcapError(f"{where}: choice {part.strip()!r} is not written 'code, label'")
        if not _CHOICE_CODE.match(code.strip()):
            raise RedcapError(f"{where}: choice code {code.strip()!r} has characters a code may not hold")
        choices.append({"code": code.strip(), "labels": _labels(label)})
    return choices


def _branching(text: str, booleans: set[str]) -> str:
    """REDCap branching logic in this dictionary's condition language; ExpressionError when it has no equivalent."""
    if re.search(r"\[[a-z0-9_]+\(", text):
        raise ExpressionError("checkbox options in branching logic")
    condition = text

    def boolean(match: re.Match[str]) -> str:
        name, op, value = match[1], match[2], match[3]
        if name in booleans:
            return f"{name} {'==' if op == '=' else '!='} {'True' if value == '1' else 'False'}"
        return match[0]

    condition = re.sub(r"\[([a-z0-9_]+)\]\s*(=|<>)\s*['\"]([01])['\"]", boolean, condition)
    condition = re.sub(r"\[([a-z0-9_]+)\]", r"\1", condition)
    condition = re.sub(r"(?<![<>!=])=(?!=)", "==", condition)
    condition = condition.replace("<>", "!=")
    condition = re.sub(r"\bAND\b", "and", condition)
    condition = re.sub(r"\bOR\b", "or", condition)
    return Condition.parse(condition).text


def convert(text: str, *, module: str, entity: str, label: str = "", instrument: str | None = None) -> Conversion:
    """The draft module for `entity` from the CSV `text` (one instrument, or all of them)."""
    if not _VARIABLE.match(module):
        raise RedcapError(f"module code {module!r}: lower-case letters, digits and _, starting with a letter")
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise RedcapError("the file is empty") from None
    if len(header) < 12 or not header[0].lower().startswith("variable"):
        raise RedcapError("not a REDCap data dictionary: the first column is not 'Variable / Field Name'")
    rows = list(enumerate(reader, start=2))
    types = {row[0].strip(): row[3].strip() for _n, row in rows if len(row) > 3}
    booleans = {name for name, kind in types.items() if kind in ("yesno", "truefalse")}
    fields: list[dict[str, Any]] = []
    left_out: list[str] = []
    section: str = ""
    form_label = label
    for number, row in rows:
        if not any(c.strip() for c in row):
            continue
        if len(row) < 12:
            raise RedcapError(f"row {number}: {len(row)} columns, a REDCap data dictionary has 18")
        name, form, header_text, kind, field_label, choices, note, validation, low, high = (c.strip() for c in row[:10])
        branching, required = row[11].strip(), row[12].strip().lower() if len(row) > 12 else ""
        where = f"row {number}, {name}"
        if instrument and form != instrument:
            continue
        if not form_label:
            form_label = form.replace("_", " ").capitalize()
        if name == "record_id" or (number == 2 and kind == "text"):
            continue  # REDCap's first field is the record identifier: the registry has its own
        if header_text:
            section = header_text
        if kind == "descriptive":
            section = field_label or section
            continue
        if not _VARIABLE.match(name):
            raise RedcapError(f"{where}: not a variable name this dictionary accepts")
        spec: dict[str, Any] = {"code": name, "labels": _labels(field_label or name)}
        if kind in ("text", "notes"):
            spec["type"] = _VALIDATION_TYPES.get(validation, "text")
            if match := _NUMBER_DP.match(validation):
                spec["type"], spec["decimals"] = "decimal", int(match[1])
            if validation and spec["type"] == "text" and kind == "text" and validation not in ("alpha_only", ""):
                left_out.append(f"{where}: text validation {validation!r} not kept (the field stays text)")
            for key, value in (("min", low), ("max", high)):
                if value and spec["type"] in ("integer", "decimal"):
                    try:
                        spec[key] = float(value)
                    except ValueError:
                        left_out.append(f"{where}: {key} {value!r} is not a number")
        elif kind in ("dropdown", "radio"):
            spec["type"], spec["choices"] = "choice", _choices(choices, where)
        elif kind == "checkbox":
            spec["type"], spec["choices"] = "multichoice", _choices(choices, where)
        elif kind in ("yesno", "truefalse"):
            spec["type"] = "boolean"
        elif kind == "slider":
            spec.update(type="integer", min=0.0, max=100.0)
        else:
            left_out.append(f"{where}: field type {kind!r} has no equivalent here (left out)")
            continue
        if note:
            spec["help"] = _labels(note)
        if section:
            spec["section"] = _labels(section)
            section = ""
        if required == "y":
            spec["required"] = True
        if branching:
            try:
                spec["show_if"] = _branching(branching, booleans)
            except ExpressionError as exc:
                left_out.append(f"{where}: branching logic {branching!r} not kept ({exc})")
        fields.append(spec)
    if not fields:
        raise RedcapError(f"no field to convert{f' in instrument {instrument!r}' if instrument else ''}")
    known = {f["code"] for f in fields}
    for spec in fields:
        names = Condition.parse(spec["show_if"]).names if "show_if" in spec else set()
        if names - known:
            left_out.append(
                f"{spec['code']}: branching logic on {', '.join(sorted(names - known))}, outside the module"
            )
            del spec["show_if"]
    result = {
        "code": module,
        "order": 900,
        "entities": [entity],
        "labels": _labels(form_label or module),
        "fields": fields,
    }
    try:
        FormDef.model_validate(result)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise RedcapError(
            f"the converted module does not pass the dictionary's schema: {first['loc']}: {first['msg']}"
        ) from None
    return Conversion(result, left_out)
