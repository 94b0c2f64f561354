"""Building a rule's context from a few rows, without a database: rule tests run in milliseconds.

    ctx = context_of([{"date_of_birth": "2010-05-04", "diagnosis_date": "2009-01-01"}])
    assert run_rules(ctx, [rule])["case_id"].tolist() == [1]

Cases get case_id 1, 2, ... in order unless given; values are written as they are stored (ISO dates,
"8370/3", "C74.0", choice codes) and typed exactly as `partner.cases.frames` types them.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from types import SimpleNamespace
from typing import Any, cast

import pandas as pd

from partner.cases.frames import CASE_COLUMNS, CaseFrames, _repeating_frame, _typed
from partner.dictionary.definitions import read_definitions
from partner.dictionary.loader import Dictionary

from .rules.base import Context

TODAY = dt.date(2026, 6, 1)


@functools.cache
def bundled_dictionary() -> Dictionary:
    """The dictionary shipped with the code, read from its files rather than from the database."""
    definitions = read_definitions()
    return Dictionary(SimpleNamespace(definition=definitions.as_json(), number=definitions.version))  # type: ignore[arg-type]


def context_of(
    cases: Sequence[Mapping[str, Any]],
    repeating: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    *,
    today: dt.date = TODAY,
    max_age_years: int = 17,
    dictionary: Dictionary | None = None,
) -> Context:
    """A context of these cases (status "submitted" unless given) and repeating rows (case_id, instance, ...)."""
    d = dictionary or bundled_dictionary()
    rows = []
    for i, values in enumerate(cases, start=1):
        row: dict[str, Any] = {"case_id": i, "patient_id": i, "child_id": i, "status": "submitted"}
        rows.append(row | dict(values))
    frame = pd.DataFrame(rows)
    for name, dtype in CASE_COLUMNS.items():
        if name not in frame:
            frame[name] = pd.Series([None] * len(frame), dtype="object")
        frame[name] = frame[name].astype(cast(Any, dtype))
    invalid: list[pd.DataFrame] = []
    flat = [f for form in d.forms if not form.repeating for f in form.fields]
    frame = _typed(frame, flat, invalid)
    frames = CaseFrames(frame)
    for form in d.forms:
        if form.repeating:
            given = [dict(r) for r in (repeating or {}).get(form.code, [])]
            frames.repeating[form.code] = _repeating_frame(form, given, invalid)
    if invalid:
        frames.invalid = pd.concat(invalid, ignore_index=True).astype({"case_id": "int64", "instance": "int64"})
    return Context(frames=frames, dictionary=d, today=pd.Timestamp(today), max_age_years=max_age_years)
