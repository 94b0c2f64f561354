"""Running the rules: over the whole registry in one pass of DataFrame operations, or over one case.

    ctx = context_for(TumourCase.objects.filter(centre__country__code="IT"))
    findings = run_rules(ctx, registry_rules(ctx.dictionary))

`findings` has one row per failing value: rule, severity, case_id, instance (0 for a form that does
not repeat), field ("form.field", where the finding shows) and values, the involved values as text
("diagnosis_date=2020-03-01; date_of_birth=2021-05-02"). A confirmation is kept against exactly
those values: the same values never raise the finding again, other values do.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd
from django.conf import settings

from partner.cases.frames import build_frames, precision_column
from partner.dictionary.loader import Dictionary, get_dictionary

from .rules.base import Context, Rule, mask

FINDING_COLUMNS = ["rule", "severity", "case_id", "instance", "field", "values"]


class RuleFailed(Exception):
    """A rule could not run (a bug in the rule, never in the data): names the rule."""


def context_for(cases: Any, *, dictionary: Dictionary | None = None, today: dt.date | None = None) -> Context:
    """The context for these cases (a queryset, unscoped: the caller scopes it); withdrawn cases are left out."""
    d = dictionary or get_dictionary()
    return Context(
        frames=build_frames(cases.filter(withdrawal__isnull=True), dictionary=d),
        dictionary=d,
        today=pd.Timestamp(today or dt.date.today()),
        max_age_years=settings.PARTNER_MAX_AGE_YEARS,
    )


def run_rules(ctx: Context, rules: Iterable[Rule], *, progress: Callable[[Rule], None] | None = None) -> pd.DataFrame:
    """Every finding of these rules over the context's cases (see the module's documentation)."""
    parts = []
    for rule in rules:
        frame = ctx.cases if rule.form is None else ctx.rows(rule.form)
        if not frame.empty:
            try:
                failing = mask(rule.check(ctx))
            except Exception as exc:  # a rule's bug must name the rule, not just a pandas line
                raise RuleFailed(f"rule {rule.code} failed: {exc!r}") from exc
            if failing.any():
                rows = frame.loc[failing[failing].index]
                parts.append(
                    pd.DataFrame(
                        {
                            "rule": rule.code,
                            "severity": rule.severity,
                            "case_id": rows["case_id"].astype("int64").to_numpy(),
                            "instance": rows["instance"].astype("int64").to_numpy() if rule.form else 0,
                            "field": rule.field,
                            "values": fingerprint(rows, rule.columns).to_numpy(),
                        }
                    )
                )
        if progress is not None:
            progress(rule)
    if not parts:
        return pd.DataFrame(
            {c: pd.Series(dtype="int64" if c in ("case_id", "instance") else "object") for c in FINDING_COLUMNS}
        )
    return pd.concat(parts, ignore_index=True)


def fingerprint(rows: pd.DataFrame, columns: list[str]) -> pd.Series:
    """ "a=1; b=2020-01-02" for each row: the values a finding is about, as text."""
    text = pd.Series("", index=rows.index, dtype="object")
    for i, name in enumerate(columns):
        series = rows[name] if name in rows else pd.Series(pd.NA, index=rows.index)
        if pd.api.types.is_datetime64_any_dtype(series):
            shown = series.dt.strftime("%Y-%m-%d")
            precision = rows.get(precision_column(name))
            if precision is not None:  # a partial date as stored ("2024-01"), not its imputed day
                shown = shown.where(precision.ne("month").fillna(True), series.dt.strftime("%Y-%m"))
                shown = shown.where(precision.ne("year").fillna(True), series.dt.strftime("%Y"))
        elif series.dtype == object:
            shown = series.map(lambda v: ",".join(map(str, v)) if isinstance(v, list) else v)
        else:
            shown = series
        shown = shown.astype("string").fillna("")
        text = text + ("; " if i else "") + name + "=" + shown.astype(object)
    return text
