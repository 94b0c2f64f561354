"""Statistics over the API (mounted at /api/statistics): the numbers behind each cohort table and
survival plot.

Counts come from `partner.analysis` on the frames of the cases in the user's scope. For anyone but
a coordinator, counts under `PARTNER_MIN_CELL_COUNT` are hidden together with the cells that would
let them be worked out, and survival groups of fewer children are named without numbers.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import pandas as pd
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from partner.accounts.auth import API_AUTH
from partner.accounts.models import Role
from partner.accounts.security import is_coordinator
from partner.analysis import (
    Cohort,
    SurvivalAnalysis,
    age_at_diagnosis,
    age_group,
    describe,
    main_stage,
    one_per_child,
    suppress,
    suppress_series,
    survival_table,
)
from partner.cases.frames import CaseFrames, build_frames
from partner.cases.models import TumourCase

router = Router(tags=["statistics"], auth=API_AUTH)

BY = ("sex", "country", "age_group", "stage_group", "main_stage")
ENDPOINTS = ("overall", "event_free")
MISSING = "missing"
AGE = "age at diagnosis (years)"
ALL = "all"
TOTAL = "Total"
#: Roles that see no case row but may read aggregates of the whole registry, always suppressed.
AGGREGATE_ROLES = {Role.RESEARCHER, Role.EXPERT}


class Filters(Schema):
    entity: str | None = None
    country: list[str] = []
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    age_group: list[str] = []
    sex: list[str] = []
    stage: list[str] = []
    treatment: list[str] = []
    by: str | None = None


class CountOut(Schema):
    group: str
    n: int | None


class DescribeRow(Schema):
    variable: str
    level: str
    group: str
    value: float | None
    percent: float | None


class CohortOut(Schema):
    by: str | None
    total: int | None
    counts: list[CountOut]
    table: list[DescribeRow]
    suppressed_below: int | None


class Estimate(Schema):
    value: float | None
    lower: float | None
    upper: float | None


class AtYear(Schema):
    years: int
    survival: float | None
    lower: float | None
    upper: float | None


class Point(Schema):
    time: float
    survival: float
    lower: float | None
    upper: float | None


class AtRisk(Schema):
    years: int
    n: int


class GroupOut(Schema):
    group: str
    suppressed: bool = False
    n: int | None = None
    events: int | None = None
    median: Estimate | None = None
    survival_at: list[AtYear] | None = None
    curve: list[Point] | None = None
    at_risk: list[AtRisk] | None = None


class LogRankOut(Schema):
    statistic: float
    p_value: float
    degrees_of_freedom: int


class SurvivalOut(Schema):
    endpoint: str
    by: str | None
    groups: list[GroupOut]
    logrank: LogRankOut | None
    excluded: int | None
    suppressed_below: int | None


class Error(Schema):
    detail: str


def _number(value: Any) -> float | None:
    """A float for JSON: None for a missing or infinite value (a median survival not reached)."""
    if value is None or pd.isna(value) or math.isinf(float(value)):
        return None
    return float(value)


def _frames(user: Any) -> tuple[CaseFrames, int | None]:
    """The frames counted for `user` and the suppression threshold (None for exact numbers).

    Researchers and experts see no case row, but may read aggregates of the whole registry,
    always with small cells hidden.
    """
    threshold = settings.PARTNER_MIN_CELL_COUNT
    aggregate_only = user.memberships.filter(role__in=AGGREGATE_ROLES).exists()
    if aggregate_only and not user.is_superuser:
        return build_frames(TumourCase.objects.counted()), threshold
    return build_frames(TumourCase.objects.restrict(user).counted()), None if is_coordinator(user) else threshold


def _cohort(filters: Filters, frames: CaseFrames) -> pd.DataFrame:
    """The cases selected by the filters; raises ValueError for a filter that makes no sense."""
    if filters.by is not None and filters.by not in BY:
        raise ValueError(_("by must be one of: %(choices)s") % {"choices": ", ".join(BY)})
    period = None
    if filters.period_start or filters.period_end:
        period = (filters.period_start, filters.period_end)
    cohort = Cohort(
        entity=filters.entity,
        countries=filters.country or None,
        period=period,
        age_groups=filters.age_group or None,
        sexes=filters.sex or None,
        stages=filters.stage or None,
        treatments=filters.treatment or None,
    )
    selected = cohort.select(frames.cases, frames.repeating.get("treatment"))
    if "stage_group" in selected:  # stages I to IV, their subgroups merged, as the reports compare them
        selected = selected.assign(main_stage=main_stage(selected["stage_group"]))
    return selected


def _grouping(cases: pd.DataFrame, by: str) -> pd.Series:
    """The `by` value of each case as text, "missing" where there is none."""
    column = age_group(age_at_diagnosis(cases)) if by == "age_group" else cases[by]
    if isinstance(column.dtype, pd.CategoricalDtype):
        levels = [str(c) for c in column.cat.categories]
    else:
        levels = sorted(column.dropna().astype(str).unique())
    text = column.astype("object").map(lambda v: MISSING if pd.isna(v) else str(v))
    return pd.Series(pd.Categorical(text, categories=[*levels, MISSING], ordered=True), index=cases.index)


def _counts(children: pd.DataFrame, by: str | None, threshold: int | None) -> pd.Series:
    counts = pd.Series({TOTAL: len(children)}, dtype="int64")
    if by is not None:
        groups = _grouping(children, by).value_counts(sort=False)
        groups = groups[(groups > 0) | (groups.index != MISSING)]
        counts = pd.concat([groups.rename(index=str), counts]).astype("int64")
    if threshold is None:
        return counts
    if len(counts) == 1:  # no group (none asked for, or no child): the total is a table of one cell
        return suppress_series(counts, threshold, total=None)
    return suppress_series(counts, threshold, total=TOTAL)


def _shown_groups(table: pd.DataFrame, by: str | None, threshold: int | None) -> set[str]:
    """The groups whose size may be shown: a curve starts at its group's size, so a group hidden to
    protect a smaller one (complementary suppression) gets no curve either."""
    if by is None or threshold is None:
        return {ALL} if by is None else {str(g) for g in table[by].dropna().unique()}
    column = table[by].astype("object")
    sizes = column.where(column.notna(), MISSING).astype(str).value_counts()
    counts = suppress_series(pd.concat([sizes, pd.Series({TOTAL: len(table)})]).astype("int64"), threshold, total=TOTAL)
    return {str(g) for g, v in counts.items() if g != TOTAL and not pd.isna(v)}


def _size(counts: pd.Series, group: str) -> int | None:
    value = counts.get(TOTAL if group == ALL else group)
    return None if value is None or pd.isna(value) else int(value)


def _hidden(values: pd.DataFrame, counts: pd.Series, threshold: int) -> pd.DataFrame:
    """Which cells of describe()'s values to hide: each variable's levels-by-groups table is
    suppressed (the group sizes taken as known), the ages of groups too small to show are hidden,
    and so is every cell of a group whose size is hidden."""
    groups = list(values.columns)
    sizes = {g: _size(counts, g) for g in groups}
    hidden = pd.DataFrame(False, index=values.index, columns=groups)
    # "all" is the margin of the groups; without groups it is the only column, its total the known number of children.
    columns = [TOTAL if g == ALL and len(groups) > 1 else g for g in groups]
    for variable in values.index.get_level_values(0).unique():
        if variable == "cases":
            continue
        block: pd.DataFrame = values.loc[[variable]]
        if variable == AGE:
            small = [g for g in groups if (sizes[g] or 0) < threshold]
            hidden.loc[[(AGE, q) for q in ("median", "q1", "q3")], small] = True
            missing = block.loc[[(AGE, MISSING)]].to_numpy()[0]
            known = values.loc[[("cases", "n")]].to_numpy()[0] - missing
            index = pd.MultiIndex.from_tuples([(AGE, MISSING), (AGE, "known")])
            block = pd.DataFrame([missing, known], index=index, columns=groups)
        cells = block.set_axis(columns, axis=1).round().astype("int64")
        mask: pd.DataFrame = suppress(cells, columns, threshold=threshold, total=TOTAL).attrs["suppressed"]
        mask = mask.set_axis(groups, axis=1)
        rows = mask.index.intersection(values.index)
        hidden.loc[rows] |= mask.loc[rows]
    for g in groups:
        if sizes[g] is None:
            hidden[g] = True
    return hidden


def _describe_rows(
    children: pd.DataFrame, by: str | None, counts: pd.Series, threshold: int | None
) -> list[dict[str, Any]]:
    """describe() as long rows (variable, level, group, value, percent), hidden cells as None."""
    table = describe(children, by=by)
    groups = [str(g) for g in table.columns.get_level_values(0).unique()]
    values = pd.DataFrame(table.xs("value", axis=1, level=1)).set_axis(groups, axis=1).astype(float)
    percents = table.xs("percent", axis=1, level=1).set_axis(groups, axis=1).astype(float)
    hidden = _hidden(values, counts, threshold) if threshold is not None else values.isna() & False
    rows = []
    for key in values.index:
        variable, level = key
        for g in groups:
            shown = not hidden.at[key, g]
            rows.append(
                {
                    "variable": variable,
                    "level": level,
                    "group": g,
                    "value": _number(values.at[key, g]) if shown else None,
                    "percent": _number(percents.at[key, g]) if shown else None,
                }
            )
    return rows


@router.get(
    "/cohort",
    response={200: CohortOut, 422: Error},
    summary="Children in a cohort, counted by a variable, with the descriptive table",
)
def cohort(request: HttpRequest, filters: Query[Filters]) -> Any:
    frames, threshold = _frames(request.user)
    try:
        cases = _cohort(filters, frames)
    except ValueError as exc:
        return Status(422, {"detail": str(exc)})
    children, _later = one_per_child(cases)
    counts = _counts(children, filters.by, threshold)
    return Status(
        200,
        {
            "by": filters.by,
            "total": None if pd.isna(counts[TOTAL]) else int(counts[TOTAL]),
            "counts": [{"group": g, "n": None if pd.isna(n) else int(n)} for g, n in counts.items() if g != TOTAL],
            "table": _describe_rows(children, filters.by, counts, threshold),
            "suppressed_below": threshold,
        },
    )


def _band(row: Any) -> dict[str, float | None]:
    return {"lower": _number(row["lower"]), "upper": _number(row["upper"])}


def _group_out(name: str, analysis: SurvivalAnalysis, group: Any) -> dict[str, Any]:
    kmf = analysis.km_[group]
    median = analysis.median_.set_index("group").loc[group]
    at = analysis.at_[analysis.at_["group"] == group]
    bands = kmf.confidence_interval_survival_function_
    curve = pd.concat(
        [kmf.survival_function_.iloc[:, 0].rename("survival"), bands.set_axis(["lower", "upper"], axis=1)], axis=1
    )
    return {
        "group": name,
        "n": int(median["n"]),
        "events": int(median["events"]),
        "median": {"value": _number(median["median"]), **_band(median)},
        "survival_at": [
            {"years": int(r["years"]), "survival": _number(r["survival"]), **_band(r)} for _i, r in at.iterrows()
        ],
        "curve": [{"time": float(t), "survival": float(r["survival"]), **_band(r)} for t, r in curve.iterrows()],
        "at_risk": [{"years": int(y), "n": int(n)} for y, n in analysis.at_risk_.loc[group].items()],
    }


@router.get(
    "/survival",
    response={200: SurvivalOut, 422: Error},
    exclude_unset=True,
    summary="Kaplan-Meier survival of a cohort, overall or by group: the numbers behind the plot",
)
def survival(request: HttpRequest, filters: Query[Filters], endpoint: str = "overall") -> Any:
    if endpoint not in ENDPOINTS:
        return Status(422, {"detail": _("endpoint must be one of: %(choices)s") % {"choices": ", ".join(ENDPOINTS)}})
    frames, threshold = _frames(request.user)
    try:
        cases = _cohort(filters, frames)
    except ValueError as exc:
        return Status(422, {"detail": str(exc)})
    table = survival_table(cases, frames.repeating.get("follow_up"), endpoint=endpoint)  # type: ignore[arg-type]
    by = filters.by
    groups: list[dict[str, Any]] = []
    hidden: list[Any] = []
    logrank = None
    if len(table):
        analysis = SurvivalAnalysis().fit(table, by=by)
        logrank = analysis.logrank_
        shown = _shown_groups(table, by, threshold)
        for group, kmf in analysis.km_.items():
            if threshold is not None and (len(kmf.durations) < threshold or str(group) not in shown):
                hidden.append(group)
                groups.append({"group": str(group), "suppressed": True})
            else:
                groups.append(_group_out(str(group), analysis, group))
    if by is not None and hidden:
        # the test compares only the groups shown
        visible = table[table[by].notna() & ~table[by].isin(hidden)]
        logrank = SurvivalAnalysis().fit(visible, by=by).logrank_ if visible[by].nunique() >= 2 else None
    return Status(
        200,
        {
            "endpoint": endpoint,
            "by": by,
            "groups": groups,
            "logrank": None
            if logrank is None
            else {
                "statistic": float(logrank.test_statistic),
                "p_value": float(logrank.p_value),
                "degrees_of_freedom": int(logrank.degrees_of_freedom),
            },
            "excluded": int(table.attrs.get("excluded", 0)) if threshold is None else None,
            "suppressed_below": threshold,
        },
    )
