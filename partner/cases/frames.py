"""The registry as pandas DataFrames: the one way quality control, exports and analyses read it.

    frames = case_frames(user)
    frames.cases          one row per case the user may see, one column per field of the
                          non-repeating forms (and tumour modules), typed as the dictionary says
    frames.repeating["treatment"]   one row per treatment line, keyed by case_id and instance

Records are read in one query per table, never field by field.

A date field that accepts partial dates (the month or the year alone, see partner.lib.dates) has a
companion column `<field>_precision` ("day", "month" or "year") and its date column holds the
imputed day: the middle of the known period (the 15th of the month, 1 July of the year), moved
inside the case's other known dates where they cut the period. The lower bound is the date of
birth, and for treatment lines and follow-up events also the diagnosis date (they follow it); the
upper bound is the diagnosis date for the onset, and the case's last known date (death, else last
contact) for every other field. `date_bounds` gives the first and last possible day of each value.
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
from partner.lib.dates import PartialDate

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
        if f.type == "date" and f.partial_dates:
            frame[f.code], frame[precision_column(f.code)] = _partial(column)
        elif f.type == "date":
            frame[f.code] = pd.to_datetime(column, format="ISO8601", errors="coerce")
        elif f.type == "multichoice":
            frame[f.code] = column.map(lambda v: v if isinstance(v, list) else [])
        else:
            frame[f.code] = column.astype(_dtype(f))
    return frame


def precision_column(code: str) -> str:
    return f"{code}_precision"


def _partial(column: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The imputed middle of each stored (partial) date, and its precision; unreadable values are missing.

    Each distinct value is read once: a registry holds a few thousand dates among a million rows."""
    codes, distinct = pd.factorize(column.map(lambda v: v if isinstance(v, str) else None), use_na_sentinel=True)
    dates: list[Any] = []
    precisions: list[Any] = []
    for value in distinct:
        try:
            date = PartialDate.parse(value)
        except ValueError:
            date = None
        dates.append(pd.Timestamp(date.midpoint()) if date else pd.NaT)
        precisions.append(date.precision if date else None)
    imputed = pd.Series(dates, dtype="datetime64[ns]").array.take(codes, allow_fill=True)
    precision = pd.Series(precisions, dtype="string").array.take(codes, allow_fill=True)
    return (
        pd.Series(imputed, index=column.index, dtype="datetime64[ns]"),
        pd.Series(precision, index=column.index, dtype="string"),
    )


def date_bounds(frame: pd.DataFrame, code: str) -> tuple[pd.Series, pd.Series]:
    """The first and last day each value of date column `code` may be: the day itself for a full date,
    the whole month or year for a partial one."""
    value = frame[code]
    precision = frame.get(precision_column(code))
    if precision is None:
        return value, value
    month = precision.eq("month").fillna(False).to_numpy(dtype=bool)
    year = precision.eq("year").fillna(False).to_numpy(dtype=bool)
    earliest, latest = value.copy(), value.copy()
    if month.any():
        earliest[month] = value[month].dt.to_period("M").dt.start_time
        latest[month] = value[month].dt.to_period("M").dt.end_time.dt.normalize()
    if year.any():
        earliest[year] = value[year].dt.to_period("Y").dt.start_time
        latest[year] = value[year].dt.to_period("Y").dt.end_time.dt.normalize()
    return earliest, latest


def _bound_imputed(frame: pd.DataFrame, fields: list[FieldDef], cases: pd.DataFrame, form: FormDef | None) -> None:
    """Move each imputed day inside the known dates that cut its period (see the module's docstring)."""
    partial = [f for f in fields if f.partial_dates and f.code in frame]
    if not partial or not len(frame):
        return
    known = cases.set_index("case_id")
    by_case = frame["case_id"] if "case_id" in frame else cases["case_id"]

    def case_column(name: str) -> pd.Series:
        if name not in known:
            return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
        return pd.Series(known[name].reindex(by_case.to_numpy()).to_numpy(), index=frame.index)

    born, diagnosed = case_column("date_of_birth"), case_column("diagnosis_date")
    last_known = case_column("date_of_death").fillna(case_column("last_contact_date"))
    for f in partial:
        earliest, latest = date_bounds(frame, f.code)
        lower = born if form is None or not form.repeating else pd.concat([born, diagnosed], axis=1).max(axis=1)
        upper = diagnosed if f.code == "onset_date" else last_known
        # A bound outside the period says nothing about the day inside it.
        low = lower.where((lower >= earliest) & (lower <= latest)).fillna(earliest)
        high = upper.where((upper >= earliest) & (upper <= latest)).fillna(latest)
        inside = (low <= high).fillna(False)
        imputed = frame[f.code].where(frame[f.code] >= low, low).where(frame[f.code] <= high, high)
        frame[f.code] = frame[f.code].where(~inside | frame[f.code].isna(), imputed)


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
            _bound_imputed(frames.repeating[form.code], form.fields, frames.cases, form)
        else:
            _bound_imputed(frames.cases, form.fields, frames.cases, form)
    if invalid:
        frames.invalid = pd.concat(invalid, ignore_index=True).astype({"case_id": "int64", "instance": "int64"})
    return frames


def _repeating_frame(form: FormDef, rows: list[dict[str, Any]], invalid: list[pd.DataFrame]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["case_id", "instance"] if not rows else None)
    frame = _typed(frame, form.fields, invalid)
    frame = frame.astype({"case_id": "Int64", "instance": "Int64"})
    ordered = ["case_id", "instance"] + [f.code for f in form.fields]
    ordered += [precision_column(f.code) for f in form.fields if f.partial_dates]
    return frame[ordered].sort_values(["case_id", "instance"], ignore_index=True)
