"""The registry as pandas DataFrames: the one way quality control, exports and analyses read it.

    frames = case_frames(user)
    frames.cases          one row per case the user may see, one column per field of the
                          non-repeating forms (and tumour modules), typed as the dictionary says
    frames.repeating["treatment"]   one row per treatment line, keyed by case_id and instance

Records are read in one query per table, never field by field.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from django.db.models import BigIntegerField
from django.db.models.functions import Coalesce

from partner.dictionary.loader import Dictionary, get_dictionary
from partner.dictionary.schema import FieldDef, FormDef

from .models import FormRecord, TumourCase

CASE_COLUMNS = {
    "case_id": "Int64",
    "patient_id": "Int64",
    "child_id": "Int64",  # one per child: patients linked as "same child" share it; count children by it
    "centre": "string",
    "country": "string",
    "status": "string",
    "entity": "string",
    "iccc_group": "string",
    "iccc_extended": "string",
    "dictionary_version": "Int64",
}


@dataclass
class CaseFrames:
    cases: pd.DataFrame
    repeating: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: Stored values the dictionary in force does not allow (a choice since removed, or a value
    #: written around the validator), left out of the typed columns: case_id, instance (0 for a
    #: non-repeating form), field, value. Quality control reports them.
    invalid: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["case_id", "instance", "field", "value"])
    )


def _dtype(f: FieldDef) -> Any:
    if f.type == "integer":
        return "Int64"
    if f.type == "decimal":
        return "Float64"
    if f.type == "boolean":
        return "boolean"
    if f.type == "choice":
        return pd.CategoricalDtype([c.code for c in f.choices])
    if f.type == "multichoice":
        return "object"
    return "string"


def _typed(frame: pd.DataFrame, fields: list[FieldDef], invalid: list[pd.DataFrame] | None = None) -> pd.DataFrame:
    for f in fields:
        if f.code not in frame:
            frame[f.code] = pd.Series([None] * len(frame), index=frame.index, dtype="object")
        column = frame[f.code]
        if f.type == "choice":
            bad = column.notna() & ~column.isin([c.code for c in f.choices])
            if bad.any():
                if invalid is not None:
                    rows = frame.loc[bad, ["case_id"]].assign(
                        instance=frame.loc[bad, "instance"] if "instance" in frame else 0,
                        field=f.code,
                        value=column[bad].astype(str),
                    )
                    invalid.append(rows)
                column = column.where(~bad, None)
        if f.type == "date":
            frame[f.code] = pd.to_datetime(column, format="ISO8601", errors="coerce")
        elif f.type == "multichoice":
            frame[f.code] = column.map(lambda v: v if isinstance(v, list) else [])
        else:
            frame[f.code] = column.astype(_dtype(f))
    return frame


def case_frames(user: Any, *, dictionary: Dictionary | None = None, queryset: Any = None) -> CaseFrames:
    """The cases `user` may see (through `restrict`), as typed DataFrames."""
    cases = (queryset if queryset is not None else TumourCase.objects.all()).restrict(user).for_analysis()
    return build_frames(cases, dictionary=dictionary)


def build_frames(cases: Any, *, dictionary: Dictionary | None = None) -> CaseFrames:
    """These cases as typed DataFrames. Unscoped: callers pass a queryset already restricted to a user,
    or, for the registry's own jobs (quality control over all cases), one that is not."""
    d = dictionary or get_dictionary()
    rows = list(
        cases.annotate(child=Coalesce("patient__registry_identity", "patient_id", output_field=BigIntegerField()))
        .values_list(
            "id",
            "patient_id",
            "child",
            "centre__code",
            "centre__country__code",
            "status",
            "entity__code",
            "iccc_group",
            "iccc_extended",
            "dictionary_version__number",
        )
        .order_by("id")
    )
    base = pd.DataFrame(rows, columns=list(CASE_COLUMNS)).astype(CASE_COLUMNS)
    single: dict[int, dict[str, Any]] = defaultdict(dict)
    repeated: dict[str, list[dict[str, Any]]] = defaultdict(list)
    repeating_forms = {f.code for f in d.forms if f.repeating}
    records = FormRecord.objects.filter(case__in=cases).values_list("case_id", "form__code", "number", "values")
    for case_id, form_code, instance, values in records.iterator(chunk_size=5000):
        if form_code in repeating_forms:
            repeated[form_code].append({"case_id": case_id, "instance": instance, **values})
        else:
            single[case_id].update(values)
    flat_fields = [f for form in d.forms if not form.repeating for f in form.fields]
    values_frame = pd.DataFrame.from_dict(single, orient="index") if single else pd.DataFrame()
    values_frame = values_frame.reindex(base["case_id"].astype("int64").tolist())
    values_frame.index = base.index
    merged = pd.concat(
        [base, values_frame.drop(columns=[c for c in values_frame if c in base], errors="ignore")], axis=1
    )
    invalid: list[pd.DataFrame] = []
    merged = _typed(merged, flat_fields, invalid)
    ordered = list(CASE_COLUMNS) + [f.code for f in flat_fields]
    frames = CaseFrames(merged[ordered + [c for c in merged if c not in ordered]])
    for form in d.forms:
        if form.repeating:
            frames.repeating[form.code] = _repeating_frame(form, repeated.get(form.code, []), invalid)
    if invalid:
        frames.invalid = pd.concat(invalid, ignore_index=True).astype({"case_id": "int64", "instance": "int64"})
    return frames


def _repeating_frame(form: FormDef, rows: list[dict[str, Any]], invalid: list[pd.DataFrame]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["case_id", "instance"] if not rows else None)
    frame = _typed(frame, form.fields, invalid)
    frame = frame.astype({"case_id": "Int64", "instance": "Int64"})
    ordered = ["case_id", "instance"] + [f.code for f in form.fields]
    return frame[ordered].sort_values(["case_id", "instance"], ignore_index=True)
