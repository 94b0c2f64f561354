"""The cells of exported tables (CSV, data package, REDCap records), and what a spreadsheet would run.

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula by
spreadsheets (OWASP, "CSV injection"). An import refuses such a value unless its field is numeric
(`looks_like_formula`); an export writes any that is stored with a leading apostrophe (`neutralised`).
"""

from __future__ import annotations

import math
import re
from typing import Any

import pandas as pd

from partner.cases.models import TumourCase

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
TEXT_KINDS = ("string", "text", "choice", "multichoice", "morphology", "topography", "code")

#: A partial date leaves with its precision, in ISO 8601 reduced precision ("2019-05", "2019").
_DATE_FORMATS = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}


def looks_like_formula(text: str) -> bool:
    """True when a spreadsheet would run the text as a formula; spaces before the sign count too
    (some spreadsheets trim a cell before they read it)."""
    return text.startswith(("\t", "\r")) or text.lstrip().startswith(FORMULA_STARTS)


def neutralised(text: str) -> str:
    """The text with a leading apostrophe when a spreadsheet would run it as a formula; numbers stay numbers."""
    if looks_like_formula(text) and not _NUMBER.match(text):
        return "'" + text
    return text


def missing(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def decimal_text(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)


def cell(value: Any, kind: str, precision: Any = None) -> str:
    """One value as its column's kind is written; text a spreadsheet would run neutralised."""
    if kind == "multichoice":
        return neutralised("|".join(value)) if isinstance(value, list) else ""
    if missing(value):
        return ""
    if kind == "date":
        return value.strftime(_DATE_FORMATS.get(precision if isinstance(precision, str) else "day", "%Y-%m-%d"))
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "integer":
        return str(int(value))
    if kind == "decimal":
        return decimal_text(value)
    return neutralised(str(value))


def with_identifiers(cases: pd.DataFrame) -> pd.DataFrame:
    """The cases' frame with each case's pseudonym and identifier at the source (empty when it has none)."""
    ids = [int(i) for i in cases["case_id"]]
    found: dict[int, tuple[str, str]] = {}
    for start in range(0, len(ids), 500):  # SQLite limits the parameters of one query
        batch = TumourCase.objects.filter(pk__in=ids[start : start + 500])
        found.update(
            (pk, (name, source)) for pk, name, source in batch.values_list("pk", "patient__pseudonym", "external_id")
        )
    return cases.assign(
        pseudonym=pd.Series([found.get(i, (None, ""))[0] for i in ids], index=cases.index, dtype="string"),
        external_id=pd.Series([found.get(i, (None, ""))[1] for i in ids], index=cases.index, dtype="string"),
    )
