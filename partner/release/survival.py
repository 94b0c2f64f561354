"""Survival curves as they may be released: exact for a coordinator, coarsened for everyone else.

A Kaplan-Meier curve steps down at every death, so its steps count the deaths a table hides as
"<5", and its times say when each child died or was last seen. A curve released to a viewer who
may not see small counts therefore:

- steps only after at least `threshold` events: the events are taken in time order in blocks of
  `threshold` or more (the last few join the block before them), and the curve drops once per
  block, to the Kaplan-Meier estimate just after the block's last event;
- steps only on a fixed grid of `GRID_DAYS` (three months): a block's drop is drawn at the first
  grid time at or after its last event, so no date of death or of last contact can be read;
- ends at the last grid time with `threshold` children still at risk (or at its last drop);
- is not drawn at all for fewer than `threshold` children or events.

The median and the survival at a given year are read from the released curve, so the tables
beside it say no more than it does. Censoring marks are drawn only on exact curves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.utils import median_survival_times

#: The time grid of a released curve, in days: a quarter of a year.
GRID_DAYS = 365.25 / 4


@dataclass(frozen=True)
class Curve:
    """A right-continuous step function from (0, 1): `points` has time (days), survival, lower, upper.

    `end` is the last time it speaks for; `exact` says whether it is the Kaplan-Meier estimate
    itself or its released coarsening; `median` is (value, lower, upper) in days, inf where not
    reached.
    """

    points: pd.DataFrame
    end: float
    exact: bool
    median: tuple[float, float, float]

    def at(self, days: float) -> tuple[float, float, float]:
        """Survival with its interval at `days`; NaN beyond the end."""
        if days > self.end:
            return math.nan, math.nan, math.nan
        row = self.points[self.points["time"] <= days].iloc[-1]
        return float(row["survival"]), float(row["lower"]), float(row["upper"])


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


def released_curve(kmf: KaplanMeierFitter, threshold: int, grid: float = GRID_DAYS) -> Curve | None:
    """The curve coarsened for a viewer who may not see counts below `threshold`; None when it may
    not be drawn at all."""
    durations = np.asarray(kmf.durations, dtype=float)
    observed = np.asarray(kmf.event_observed, dtype=int)
    if len(durations) < threshold or observed.sum() < threshold:
        return None
    times, deaths = np.unique(durations[observed == 1], return_counts=True)
    ends: list[float] = []
    since = 0
    for time, n in zip(times, deaths, strict=True):
        since += int(n)
        if since >= threshold:
            ends.append(float(time))
            since = 0
    if since:  # the last events, too few for a block of their own, join the block before them
        ends[-1] = float(times[-1])
    survival = kmf.survival_function_.iloc[:, 0]
    band = kmf.confidence_interval_survival_function_
    rows = {0.0: (1.0, 1.0, 1.0)}
    for end in ends:
        step = max(grid, math.ceil(end / grid - 1e-9) * grid)
        rows[step] = (float(survival.loc[end]), float(band.iloc[:, 0].loc[end]), float(band.iloc[:, 1].loc[end]))
    points = pd.DataFrame(
        [(t, *values) for t, values in sorted(rows.items())], columns=["time", "survival", "lower", "upper"]
    )
    still_at_risk = np.sort(durations)[::-1][threshold - 1]  # the time until which `threshold` are at risk
    end = max(math.floor(still_at_risk / grid) * grid, float(points["time"].iloc[-1]))
    return Curve(
        points, end, False, tuple(_first_below_half(points, column, end) for column in ("survival", "lower", "upper"))
    )  # type: ignore[arg-type]


def _first_below_half(points: pd.DataFrame, column: str, end: float) -> float:
    """The first time the step function in `column` is at or below one half; inf if it never is
    within the curve's end."""
    below = points[(points[column] <= 0.5) & (points["time"] <= end)]
    return float(below["time"].iloc[0]) if len(below) else math.inf
