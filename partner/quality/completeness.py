"""How complete the registry is: for each required field, the share of cases where it is filled.

    table = completeness(case_frames(user).cases, get_dictionary(), by="country")

A field counts only where it is due, as the form's validation asks for it: drafts are left out, a
tumour module's fields count only for the cases of its entities, a required_if field only where its
condition holds, and a field shown under a condition only where it is shown. Computed fields are the
registry's own work and are not counted.
"""

from __future__ import annotations

import pandas as pd

from partner.dictionary.loader import Dictionary
from partner.dictionary.schema import FieldDef, FormDef
from partner.lib.expressions import Condition

from .rules.base import column

GROUPINGS = ("country", "centre", "entity")
COLUMNS = ["form", "field", "filled", "expected", "share"]


def is_missing(series: pd.Series) -> pd.Series:
    """True where a value is absent: NA, an empty text or an empty multiple choice."""
    if series.dtype == object:
        return series.map(lambda v: v is None or v is pd.NA or v == [] or v == "" or (isinstance(v, float) and v != v))
    if pd.api.types.is_string_dtype(series.dtype):
        return (series.isna() | (series == "")).fillna(True).astype(bool)
    return series.isna()


def _holds(text: str, frame: pd.DataFrame) -> pd.Series:
    return Condition.parse(text).mask(lambda name: column(frame, name.split(".")[-1]))


def _counted(form: FormDef, f: FieldDef) -> bool:
    return not form.repeating and not f.computed and (f.required or bool(f.required_if))


def _due(form: FormDef, f: FieldDef, cases: pd.DataFrame) -> pd.Series:
    due = pd.Series(True, index=cases.index)
    if form.entities:
        due &= cases["entity"].astype("object").isin(form.entities)
    if f.required_if:
        due &= _holds(f.required_if, cases)
    if f.show_if:
        due &= _holds(f.show_if, cases)
    return due


def completeness(frames_cases: pd.DataFrame, dictionary: Dictionary, by: str) -> pd.DataFrame:
    """Filled and expected counts of every required field, per value of `by` ("country", "centre", "entity").

    Returns one row per group and field where at least one case is expected to have the field, in the
    dictionary's order of fields: `by`, form, field, filled, expected, share (filled / expected).
    Cases whose `by` is missing (an unclassified entity) form a group of their own, keyed <NA>.
    """
    if by not in GROUPINGS:
        raise ValueError(f"completeness is grouped by one of {', '.join(GROUPINGS)}, not {by!r}")
    cases = frames_cases[frames_cases["status"].astype("object") != "draft"]
    fields = [(form, f) for form in dictionary.forms for f in form.fields if _counted(form, f)]
    if cases.empty or not fields:
        return pd.DataFrame(columns=[by, *COLUMNS])
    keys = [f"{form.code}.{f.code}" for form, f in fields]
    expected = pd.DataFrame(
        {key: _due(form, f, cases) for key, (form, f) in zip(keys, fields, strict=True)}, index=cases.index
    )
    present = pd.DataFrame(
        {key: ~is_missing(column(cases, f.code)) for key, (_form, f) in zip(keys, fields, strict=True)},
        index=cases.index,
    )
    groups = cases[by].astype("string").rename(by)
    expected_n = expected.groupby(groups, dropna=False).sum()
    filled_n = (expected & present).groupby(groups, dropna=False).sum()
    table = pd.DataFrame({"expected": expected_n.stack(), "filled": filled_n.stack()})
    table.index = table.index.set_names([by, "key"])
    table = table.reset_index()
    table = table[table["expected"] > 0]
    order = {key: i for i, key in enumerate(keys)}
    table = table.assign(order=table["key"].map(order))
    table = table.sort_values([by, "order"], na_position="last", kind="stable")
    parts = table["key"].str.split(".", n=1, expand=True)
    table = table.assign(form=parts[0], field=parts[1])
    table["filled"] = table["filled"].astype("int64")
    table["expected"] = table["expected"].astype("int64")
    table["share"] = table["filled"] / table["expected"]
    return table[[by, *COLUMNS]].reset_index(drop=True)


def field_labels(dictionary: Dictionary, language: str, *, name_module: bool = True) -> dict[tuple[str, str], str]:
    """The label of every counted field, by (form, field), in `language`, in the dictionary's order.

    With `name_module`, a tumour module's field is followed by the module's name: two modules may each
    ask for a "histological type".
    """
    labels = {}
    for form in dictionary.forms:
        for f in form.fields:
            if _counted(form, f):
                label = f.labels.get(language)
                named = name_module and form.entities
                labels[(form.code, f.code)] = f"{label} ({form.labels.get(language)})" if named else label
    return labels
