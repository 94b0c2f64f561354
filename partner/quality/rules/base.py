"""What a quality rule is, and what it is given to look at.

A rule looks at the whole registry at once: its `check` receives a `Context` holding the cases as
typed DataFrames (partner.cases.frames) and returns a boolean Series, True for every row that fails
it. One case checked at save time is the same computation over a frame of one row, so a finding at
save and a finding in `partner qc run` can never disagree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from django.utils.functional import Promise
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from partner.cases.frames import CaseFrames, date_bounds, precision_column
from partner.dictionary.loader import Dictionary

ERROR, WARNING, QUERY = "error", "warning", "query"
SEVERITIES = {
    ERROR: _("error"),  # impossible: must be corrected
    WARNING: _("warning"),  # unusual: correct it, or confirm it with a reason
    QUERY: _("query"),  # possible for a very rare tumour: the centre confirms it or corrects it
}

# Case-level columns a rule over a repeating form may also read, merged into its rows.
CASE_DATES = ("date_of_birth", "onset_date", "diagnosis_date", "last_contact_date", "date_of_death")


@dataclass
class Context:
    """The registry as a rule sees it: typed frames, today's date, the registry's age limit."""

    frames: CaseFrames
    dictionary: Dictionary
    today: pd.Timestamp
    max_age_years: int
    _rows: dict[str, pd.DataFrame] = field(default_factory=dict)
    _memo: dict[Any, Any] = field(default_factory=dict)

    def cached(self, key: Any, compute: Callable[[], Any]) -> Any:
        """A value derived from the frames, computed once for all the rules that need it (a parsed
        morphology column, a condition's mask): over a million cases, deriving it again in every rule
        would cost more than the rules themselves."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    @property
    def cases(self) -> pd.DataFrame:
        return self.frames.cases

    def choice(self, name: str) -> pd.Series:
        """A choice column as plain values (not categories), for comparisons with any code."""
        return self.cached(("object", name), lambda: self.cases[name].astype("object"))

    def morphology(self) -> tuple[pd.Series, pd.Series]:
        """The cases' ICD-O-3 histology and behaviour (see `morphology_parts`)."""
        return self.cached("morphology", lambda: morphology_parts(self.cases["morphology"]))

    def rows(self, form: str) -> pd.DataFrame:
        """The rows of a repeating form, with the case's status, entity and dates beside each row."""
        if form not in self._rows:
            dates = [*CASE_DATES, *(precision_column(c) for c in CASE_DATES)]
            case_columns = ["case_id", "status", "entity", *dates]
            cases = self.cases[[c for c in case_columns if c in self.cases]]
            rows = self.frames.repeating[form].merge(cases, on="case_id", how="left", validate="many_to_one")
            self._rows[form] = rows
        return self._rows[form]


@dataclass(frozen=True)
class Rule:
    """One check. `fields` name the values involved as "form.field"; the first is where a finding shows.

    `check` returns a boolean Series over `ctx.cases` (one row per case), or over `ctx.rows(form)`
    when `form` names a repeating form. `message` may use %(field)s, the first field's label.
    """

    code: str
    severity: str
    message: str | Promise
    fields: tuple[str, ...]
    source: str
    check: Callable[[Context], pd.Series]
    form: str | None = None

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"rule {self.code}: severity {self.severity!r} is not one of {', '.join(SEVERITIES)}")
        if not self.fields or any("." not in f for f in self.fields):
            raise ValueError(f"rule {self.code}: fields are named form.field")

    @property
    def field(self) -> str:
        return self.fields[0]

    @property
    def columns(self) -> list[str]:
        return [f.split(".", 1)[1] for f in self.fields]

    def text(self, dictionary: Dictionary | None = None) -> str:
        """The message in the active language."""
        message = str(self.message)
        if "%(field)s" not in message:
            return message
        return message % {"field": field_label(self.field, dictionary)}


def field_label(name: str, dictionary: Dictionary | None) -> str:
    """The label of "form.field" in the active language, or the name itself when unknown."""
    form_code, _dot, code = name.partition(".")
    form = dictionary.form_by_code.get(form_code) if dictionary is not None else None
    for f in form.fields if form is not None else ():
        if f.code == code:
            return f.labels.get(get_language() or "en")
    return name


def years_between(start: pd.Series, end: pd.Series) -> pd.Series:
    """Whole years from `start` to `end` (age at a date), as a nullable integer Series."""
    years = end.dt.year - start.dt.year
    before_birthday = (end.dt.month < start.dt.month) | ((end.dt.month == start.dt.month) & (end.dt.day < start.dt.day))
    return (years - before_birthday.astype("Int64")).astype("Int64")


def column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column, or an all-missing one when the dictionary in force lacks the field."""
    if name in frame:
        return frame[name]
    return pd.Series(pd.NA, index=frame.index, dtype="object")


def bounds(frame: pd.DataFrame, name: str) -> tuple[pd.Series, pd.Series]:
    """The first and last possible day of a date column (the same day unless the date is partial)."""
    if name not in frame:
        missing = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
        return missing, missing
    return date_bounds(frame, name)


def rules_of(*groups: Sequence[Rule]) -> list[Rule]:
    rules = [r for group in groups for r in group]
    codes = [r.code for r in rules]
    duplicates = {c for c in codes if codes.count(c) > 1}
    if duplicates:
        raise ValueError(f"rule codes used twice: {', '.join(sorted(duplicates))}")
    return rules


def per_distinct(series: pd.Series, parse: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """`parse` applied to each distinct value once, then spread back over the rows.

    A registry holds a few hundred distinct codes among a million rows: string operations on the
    distinct values are a thousand times fewer.
    """
    positions, distinct = pd.factorize(series.astype("string"), use_na_sentinel=True)
    parsed = parse(pd.Series(distinct, dtype="string"))
    if not len(parsed):
        return pd.Series(pd.NA, index=series.index, dtype=parsed.dtype)
    return pd.Series(parsed.array.take(positions, allow_fill=True), index=series.index, dtype=parsed.dtype)


def morphology_parts(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """ICD-O-3 histology (4 digits, as a number) and behaviour (1 digit) of codes written "8370/3"."""
    histology = per_distinct(series, lambda t: pd.to_numeric(t.str.slice(0, 4), errors="coerce").astype("Int64"))
    behaviour = per_distinct(series, lambda t: pd.to_numeric(t.str.slice(5, 6), errors="coerce").astype("Int64"))
    return histology, behaviour


def site_parts(series: pd.Series) -> pd.Series:
    """The ICD-O-3 topography's three-character site ("C74.0" gives "C74"), as a string Series."""
    return per_distinct(series, lambda t: t.str.slice(0, 3))


def any_of(*masks: pd.Series) -> pd.Series:
    result = masks[0]
    for mask in masks[1:]:
        result = result | mask
    return result


def codes_in(values: pd.Series, *ranges: tuple[int, int] | int) -> pd.Series:
    """True where the (integer) value lies in one of the ranges (inclusive) or equals one of the numbers."""
    result = pd.Series(False, index=values.index)
    for r in ranges:
        low, high = (r, r) if isinstance(r, int) else r
        result |= ((values >= low) & (values <= high)).fillna(False).astype(bool)
    return result


def mask(series: Any) -> pd.Series:
    """A rule's result as a plain boolean Series: missing counts as passing."""
    return series.astype("boolean").fillna(False).astype(bool)
