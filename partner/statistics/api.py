"""Statistics over the API (mounted at /api/statistics): the numbers behind each cohort table and
survival plot.

Every figure is released through `partner.release`: exact for a coordinator over their scope;
for anyone else protected (small counts hidden with their complements, every count shown changed a
little by its cell key, curves coarsened, cohorts only by whole years of diagnosis).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Collection, Hashable
from typing import Any

import numpy as np
import pandas as pd
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import field_validator

from partner.accounts.auth import API_AUTH
from partner.analysis import Cohort, age_at_diagnosis, age_group, describe, main_stage, one_per_child, survival_table
from partner.release import NotReleased, Release, as_count
from partner.release.survival import Curve

router = Router(tags=["statistics"], auth=API_AUTH)

BY = ("sex", "country", "age_group", "stage_group", "main_stage")
ENDPOINTS = ("overall", "event_free")
MISSING = "missing"
AGE = "age at diagnosis (years)"
ALL = "all"
TOTAL = "Total"
#: The survival reported at these years from diagnosis, and the numbers at risk up to the last.
YEARS = (3, 5)


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

    @field_validator("period_start", "period_end", mode="before")
    @classmethod
    def _iso_date(cls, value: Any) -> Any:
        """A date written as YYYY-MM-DD, nothing else (a bare number would be read as a Unix time)."""
        if value is None or isinstance(value, dt.date):
            return value
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError("a date is written YYYY-MM-DD")
        return dt.date.fromisoformat(value)


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
    n: int | None


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
    curves: str


class Error(Schema):
    detail: str


def _number(value: Any) -> float | None:
    """A float for JSON: None for a missing or infinite value (a median survival not reached)."""
    if value is None or pd.isna(value) or math.isinf(float(value)):
        return None
    return float(value)


def _cohort(filters: Filters, frames: Any, release: Release) -> pd.DataFrame:
    """The cases selected by the filters; raises ValueError for a filter that makes no sense or
    that this viewer may not use."""
    if filters.by is not None and filters.by not in BY:
        raise ValueError(_("by must be one of: %(choices)s") % {"choices": ", ".join(BY)})
    release.check_period(filters.period_start, filters.period_end)
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


def _text(column: pd.Series) -> pd.Series:
    """Values as text, "missing" where there is none, as an ordered categorical of every level."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        levels = [str(c) for c in column.cat.categories]
    else:
        levels = sorted(column.dropna().astype(str).unique())
    text = column.astype("object").map(lambda v: MISSING if pd.isna(v) else str(v))
    return pd.Series(pd.Categorical(text, categories=[*levels, MISSING], ordered=True), index=column.index)


def _grouping(cases: pd.DataFrame, by: str) -> pd.Series:
    """The `by` value of each case as text, "missing" where there is none."""
    return _text(age_group(age_at_diagnosis(cases)) if by == "age_group" else cases[by])


def _counts(children: pd.DataFrame, by: str | None, release: Release) -> pd.Series:
    """The children in each group, with the total, as released (NA where hidden)."""
    ids = children["case_id"]
    if by is None:
        return pd.Series({TOTAL: release.count(ids)}, dtype="Int64")
    groups = _grouping(children, by)
    cells: dict[Hashable, Collection[int]] = {
        str(g): ids[groups == g] for g in groups.cat.categories if g != MISSING or (groups == g).any()
    }
    return release.counts(cells, total=ids)


def _describe_rows(children: pd.DataFrame, by: str | None, counts: pd.Series, release: Release) -> list[dict[str, Any]]:
    """describe() as long rows (variable, level, group, value, percent); each variable's counts by
    group are released as one table with the groups' sizes as its margins, hidden cells as None."""
    table = describe(children, by=by)
    groups = [str(g) for g in table.columns.get_level_values(0).unique()]
    values = pd.DataFrame(table.xs("value", axis=1, level=1)).set_axis(groups, axis=1).astype(float)
    sizes = {g: as_count(counts.get(TOTAL if g == ALL else g)) for g in groups}
    grouping = _grouping(children, by) if by is not None else None
    released = pd.DataFrame(np.nan, index=values.index, columns=groups, dtype=float)
    for g in groups:
        size = sizes[g]
        released.at[("cases", "n"), g] = np.nan if size is None else float(size)
        small = size is None or (not release.exact and size < release.threshold)
        for q in ("median", "q1", "q3"):  # quartiles of age, for groups whose size is shown
            released.at[(AGE, q), g] = (
                np.nan if small else float(values.to_numpy()[values.index.get_loc((AGE, q)), groups.index(g)])
            )
    for variable in values.index.get_level_values(0).unique():
        if variable == "cases":
            continue
        if variable == AGE:
            column = age_at_diagnosis(children).map(lambda a: MISSING if pd.isna(a) else "known")
            rows = pd.Series(pd.Categorical(column, categories=["known", MISSING]), index=children.index)
        else:
            rows = _text(age_group(age_at_diagnosis(children)) if variable == "age_group" else children[variable])
        cells = release.crosstab(children["case_id"], rows, grouping)
        cells = cells.rename(columns={TOTAL: ALL, "n": ALL})
        for level in cells.index:
            for g in groups:
                if (variable, str(level)) in released.index and g in cells.columns:
                    shown = as_count(cells.at[level, g])
                    released.at[(variable, str(level)), g] = np.nan if shown is None else float(shown)
    for g in groups:  # nothing of a group whose size is hidden
        if sizes[g] is None:
            released[g] = np.nan
    rows_out = []
    for key in values.index:
        variable, level = key
        for g in groups:
            value = _number(released.at[key, g])
            size = sizes[g]
            percent = None
            if variable not in ("cases", AGE) and value is not None and size:
                percent = 100.0 * value / size
            elif variable == "cases" and value is not None:
                percent = 100.0
            rows_out.append({"variable": variable, "level": level, "group": g, "value": value, "percent": percent})
    return rows_out


@router.get(
    "/cohort",
    response={200: CohortOut, 422: Error},
    summary="Children in a cohort, counted by a variable, with the descriptive table",
)
def cohort(request: HttpRequest, filters: Query[Filters]) -> Any:
    release = Release.for_viewer(request.user)
    frames = release.frames()
    try:
        cases = _cohort(filters, frames, release)
    except (ValueError, NotReleased) as exc:
        return Status(422, {"detail": str(exc)})
    children, _later = one_per_child(cases)
    counts = _counts(children, filters.by, release)
    return Status(
        200,
        {
            "by": filters.by,
            "total": _number(counts[TOTAL]),
            "counts": [{"group": g, "n": _number(n)} for g, n in counts.items() if g != TOTAL],
            "table": _describe_rows(children, filters.by, counts, release),
            "suppressed_below": None if release.exact else release.threshold,
        },
    )


def _band(values: tuple[float, float, float]) -> dict[str, float | None]:
    return {"lower": _number(values[1]), "upper": _number(values[2])}


def _curve_points(curve: Curve) -> list[dict[str, Any]]:
    points = curve.points
    times = points["time"].to_numpy(dtype=float).tolist()
    out: list[dict[str, Any]] = [
        {"time": t, "survival": float(s), "lower": _number(lo), "upper": _number(hi)}
        for t, s, lo, hi in zip(times, points["survival"], points["lower"], points["upper"], strict=True)
    ]
    if curve.end > times[-1]:  # flat to the end of what the curve speaks for
        out.append({**out[-1], "time": float(curve.end)})
    return out


@router.get(
    "/survival",
    response={200: SurvivalOut, 422: Error},
    exclude_unset=True,
    summary="Kaplan-Meier survival of a cohort, overall or by group: the numbers behind the plot",
)
def survival(request: HttpRequest, filters: Query[Filters], endpoint: str = "overall") -> Any:
    if endpoint not in ENDPOINTS:
        return Status(422, {"detail": _("endpoint must be one of: %(choices)s") % {"choices": ", ".join(ENDPOINTS)}})
    release = Release.for_viewer(request.user)
    frames = release.frames()
    try:
        cases = _cohort(filters, frames, release)
    except (ValueError, NotReleased) as exc:
        return Status(422, {"detail": str(exc)})
    table = survival_table(cases, frames.repeating.get("follow_up"), endpoint=endpoint)  # type: ignore[arg-type]
    by = filters.by
    groups: list[dict[str, Any]] = []
    logrank = None
    if len(table):
        if by is not None:
            labels = _grouping(table, by)
            levels = [c for c in labels.cat.categories if c != MISSING]
            table = table.assign(**{by: pd.Categorical(labels.astype("object").where(labels != MISSING), levels, True)})
        released = release.survival(table, by, years=max(YEARS))
        logrank = released.logrank
        for group in released.groups:
            name = str(group.group)
            if group.curve is None:
                out: dict[str, Any] = {"group": name, "suppressed": True}
                if group.n is not None:
                    out.update(n=group.n, events=group.events)
                groups.append(out)
                continue
            curve = group.curve
            groups.append(
                {
                    "group": name,
                    "n": group.n,
                    "events": group.events,
                    "median": {"value": _number(curve.median[0]), **_band(curve.median)},
                    "survival_at": [
                        {"years": y, "survival": _number(at[0]), **_band(at)}
                        for y in YEARS
                        for at in [curve.at(y * 365.25)]
                    ],
                    "curve": _curve_points(curve),
                    "at_risk": [{"years": y, "n": n} for y, n in group.at_risk.items()],
                }
            )
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
            "excluded": int(table.attrs.get("excluded", 0)) if release.exact else None,
            "suppressed_below": None if release.exact else release.threshold,
            "curves": "exact" if release.exact else "released",
        },
    )
