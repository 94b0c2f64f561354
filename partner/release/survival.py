"""Survival curves as they may be released: exact for a coordinator, coarsened for everyone else.

A Kaplan-Meier curve steps down at every death, so its steps count the deaths a table hides as
"<5", and its times say when each child died or was last seen. A curve released to a viewer who
may not see small counts therefore:

- falls only by blocks of at least `threshold` events: the events are taken in time order in
  blocks of `threshold` or more (the last few join the block before them), and the curve falls
  once per block, by the Kaplan-Meier estimate's fall over the block made from released counts
  (the block's events and the children at risk when it starts, each changed by its cell key), so
  that no fall's height gives back an exact count;
- falls along a straight line on a fixed grid of `GRID_DAYS` (three months): from the grid time at
  or before the block's first event to the grid time at or after its last, so no date of death or
  of last contact can be read, and the survival at a year inside a block is neither that before
  the block nor that after it (a drop at the block's end would show a whole block of deaths as
  not yet happened);
- ends at the last grid time with `threshold` children still at risk (or at its last drop);
- is not drawn at all for fewer than `threshold` children or events.

The median and the survival at a given year are read from the released curve (along its lines),
so the tables beside it say no more than it does. Censoring marks are drawn only on exact curves.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times
from scipy.stats import norm

#: The time grid of a released curve, in days: a quarter of a year.
GRID_DAYS = 365.25 / 4


@dataclass(frozen=True)
class Curve:
    """A survival curve from (0, 1): `points` has time (days), survival, lower, upper.

    An exact curve is a right-continuous step function through its points (the Kaplan-Meier
    estimate); a released one joins its points with straight lines, each falling segment one block
    of events. `end` is the last time it speaks for; `median` is (value, lower, upper) in days, inf
    where not reached.
    """

    points: pd.DataFrame
    end: float
    exact: bool
    median: tuple[float, float, float]

    def at(self, days: float) -> tuple[float, float, float]:
        """Survival with its interval at `days`; NaN before 0 and beyond the end."""
        if days > self.end or days < 0:
            return math.nan, math.nan, math.nan
        times = self.points["time"].to_numpy(dtype=float)
        values = self.points[["survival", "lower", "upper"]].to_numpy(dtype=float)
        i = int(np.searchsorted(times, days, side="right")) - 1  # the last point at or before `days`
        if self.exact or i + 1 >= len(times) or times[i + 1] == times[i]:
            return tuple(float(v) for v in values[i])  # type: ignore[return-value]
        share = (days - times[i]) / (times[i + 1] - times[i])
        return tuple(float(v) for v in values[i] + share * (values[i + 1] - values[i]))  # type: ignore[return-value]


def exact_curve(kmf: KaplanMeierFitter) -> Curve:
    """The Kaplan-Meier estimate as lifelines fits it, every step."""
    band = kmf.confidence_interval_survival_function_
    points = pd.DataFrame(
        {
            "time": kmf.survival_function_.index.to_numpy(dtype=float),
            "survival": kmf.survival_function_.iloc[:, 0].to_numpy(dtype=float),
            "lower": band.iloc[:, 0].to_numpy(dtype=float),
            "upper": band.iloc[:, 1].to_numpy(dtype=float),
        }
    )
    lower, upper = median_survival_times(kmf.confidence_interval_).iloc[0]
    median = (float(kmf.median_survival_time_), float(lower), float(upper))
    return Curve(points, float(np.max(kmf.durations)), True, median)


def released_curve(
    kmf: KaplanMeierFitter,
    threshold: int,
    grid: float = GRID_DAYS,
    *,
    ids: Sequence[int] | None = None,
    count: Callable[[Collection[int]], int] | None = None,
    alpha: float = 0.05,
) -> Curve | None:
    """The curve coarsened for a viewer who may not see counts below `threshold`; None when it may
    not be drawn at all.

    With `count` (a release's count of a set of cases, ``ids`` naming the children of `kmf` in
    order), each drop is made from released counts: the block's hazard, one minus the Kaplan-Meier
    survival over it, is scaled by the released over the true number of its events and by the true
    over the released number at risk when it starts, and the band is Greenwood's from those
    released numbers. Without it the heights would be exact Kaplan-Meier values: with no censoring
    before a drop its height is deaths over children, and the one group size near the released one
    that makes the deaths a whole number gives both true counts back.
    """
    durations = np.asarray(kmf.durations, dtype=float)
    observed = np.asarray(kmf.event_observed, dtype=int)
    if len(durations) < threshold or observed.sum() < threshold:
        return None
    times, deaths = np.unique(durations[observed == 1], return_counts=True)
    firsts: list[float] = []
    ends: list[float] = []
    since = 0
    for time, n in zip(times, deaths, strict=True):
        if since == 0:
            firsts.append(float(time))
        since += int(n)
        if since >= threshold:
            ends.append(float(time))
            since = 0
    if since:  # the last events, too few for a block of their own, join the block before them
        firsts.pop()
        ends[-1] = float(times[-1])
    survival = kmf.survival_function_.iloc[:, 0]
    band = kmf.confidence_interval_survival_function_
    if count is None or ids is None:
        steps = [
            (float(survival.loc[end]), float(band.iloc[:, 0].loc[end]), float(band.iloc[:, 1].loc[end])) for end in ends
        ]
    else:
        steps = _released_steps(durations, observed, np.asarray(ids), ends, survival, count, alpha)
    points_list = [(0.0, 1.0, 1.0, 1.0)]
    for first, end, values in zip(firsts, ends, steps, strict=True):
        start = max(math.floor(first / grid + 1e-9) * grid, points_list[-1][0])
        if start > points_list[-1][0]:  # level until the block's first grid time, then down to its last
            points_list.append((start, *points_list[-1][1:]))
        points_list.append((max(grid, start, math.ceil(end / grid - 1e-9) * grid), *values))
    points = pd.DataFrame(points_list, columns=["time", "survival", "lower", "upper"])
    still_at_risk = np.sort(durations)[::-1][threshold - 1]  # the time until which `threshold` are at risk
    end = max(math.floor(still_at_risk / grid) * grid, float(points["time"].iloc[-1]))
    median = tuple(_crossing_half(points, column, end) for column in ("survival", "lower", "upper"))
    return Curve(points, end, False, median)  # type: ignore[arg-type]


def _released_steps(
    durations: np.ndarray,
    observed: np.ndarray,
    ids: np.ndarray,
    ends: list[float],
    survival: pd.Series,
    count: Callable[[Collection[int]], int],
    alpha: float,
) -> list[tuple[float, float, float]]:
    """Each block's survival and band from released counts (see `released_curve`)."""
    z = float(norm.ppf(1 - alpha / 2))
    steps = []
    level, variance, start, before = 1.0, 0.0, -math.inf, 1.0
    for end in ends:
        at_risk = ids[durations > start] if math.isfinite(start) else ids
        events = ids[(observed == 1) & (durations > start) & (durations <= end)]
        n, d = len(at_risk), len(events)
        shown_n, shown_d = count(at_risk.tolist()), count(events.tolist())
        after = float(survival.loc[end])
        hazard = (1 - after / before) if before > 0 else 1.0
        hazard = min(1.0, max(0.0, hazard * (shown_d / d) * (n / shown_n)))
        level *= 1 - hazard
        if shown_n > shown_d:
            variance += shown_d / (shown_n * (shown_n - shown_d))
        steps.append(_log_log_band(level, variance, z))
        start, before = end, after
    return steps


def _log_log_band(level: float, variance: float, z: float) -> tuple[float, float, float]:
    """Survival with its interval on the log(-log) scale, as lifelines draws it (Greenwood's variance)."""
    if level <= 0 or level >= 1:
        return level, level, level
    log_level = math.log(level)
    spread = z * math.sqrt(variance) / abs(log_level)
    centre = math.log(-log_level)
    return level, math.exp(-math.exp(centre + spread)), math.exp(-math.exp(centre - spread))


def _crossing_half(points: pd.DataFrame, column: str, end: float) -> float:
    """The first time the line through the points in `column` reaches one half; inf if it does not
    within the curve's end."""
    times = points["time"].to_numpy(dtype=float)
    values = points[column].to_numpy(dtype=float)
    for i in range(1, len(times)):
        if values[i] <= 0.5 < values[i - 1]:
            if times[i] == times[i - 1]:
                crossing = times[i]
            else:
                crossing = times[i - 1] + (values[i - 1] - 0.5) / (values[i - 1] - values[i]) * (
                    times[i] - times[i - 1]
                )
            return float(crossing) if crossing <= end else math.inf
    return math.inf
