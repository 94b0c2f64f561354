"""What the attack tests share: a registry built to be attacked, the truth a coordinator sees, and the
checks each attack makes of what a surface released."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from partner.analysis import Cohort, one_per_child
from partner.release.survival import GRID_DAYS
from partner.release.tests.audit import exactly_recoverable, feasible_ranges

THRESHOLD = 5
MAX_CHANGE = 2

#: The filters a researcher may combine: whole years only. [] is "any".
FAMILY = {
    "country": [[], ["IT"], ["FR"]],
    "sex": [[], ["female", "male"], ["female"], ["male"]],
    "age_group": [[], ["0-4", "5-9", "10-14"], ["5-9", "10-14", "15-19"], ["0-4"], ["5-9"], ["10-14"], ["15-19"]],
    "period": [None, ("2008-01-01", "2012-12-31"), ("2009-01-01", "2012-12-31"), ("2009-01-01", "2015-12-31")],
}


def children(born: int, *, seed: int = 7) -> Iterator[dict[str, Any]]:
    """`born` children for the attack registry: most diagnosed 2009-2015 at ages 0-14 as girls or boys,
    and a few who are the only one of their kind in their country (aged 15-19, of sex "other",
    diagnosed in 2008): each is a child a differencing attack would single out."""
    rng = np.random.default_rng(seed)
    for i in range(born):
        country = "IT" if i % 5 < 3 else "FR"
        age = float(rng.choice([2, 7, 12]))
        year = int(rng.integers(2009, 2016))
        sex = "female" if rng.random() < 0.5 else "male"
        if i in (11, 24):  # the only one aged 15-19 in their country
            age = 17
        if i in (17, 38):  # the only one of sex "other" in their country
            sex = "other"
        if i in (21, 40):  # the only one diagnosed in 2008 in their country
            year = 2008
        diagnosed = dt.date(year, int(rng.integers(1, 13)), int(rng.integers(1, 28)))
        born_on = diagnosed - dt.timedelta(days=int(age * 365.25) + int(rng.integers(1, 300)))
        days = int(rng.exponential(1800)) + 1
        dead = rng.random() < 0.45 and days < 4000
        end = min(diagnosed + dt.timedelta(days=days), dt.date(2025, 12, 31))
        yield {
            "i": i,
            "country": country,
            "sex": sex,
            "born": born_on,
            "diagnosed": diagnosed,
            "dead": dead,
            "end": end,
        }


def queries() -> list[dict[str, Any]]:
    """Every combination of the filters of `FAMILY`, as API parameters."""
    found = []
    for country, sex, age, period in itertools.product(*FAMILY.values()):
        params: dict[str, Any] = {"entity": "ACC", "country": country, "sex": sex, "age_group": age}
        if period is not None:
            params.update(period_start=period[0], period_end=period[1])
        found.append(params)
    return found


def true_ids(cases: pd.DataFrame, params: dict[str, Any]) -> set[int]:
    """The children a query counts, as the coordinator's exact figures count them."""
    period = (params["period_start"], params["period_end"]) if "period_start" in params else None
    cohort = Cohort(
        entity="ACC",
        countries=params["country"] or None,
        sexes=params["sex"] or None,
        age_groups=params["age_group"] or None,
        period=period,
    )
    kept, _later = one_per_child(cohort.select(cases))
    return set(kept["case_id"].astype(int))


def differing_by_one(cases: pd.DataFrame, smallest: int) -> list[tuple[dict[str, Any], dict[str, Any], int]]:
    """Pairs of queries (wide, narrow) whose cohorts differ by exactly one child, both at least
    `smallest`: what a differencing attack subtracts. The third item is the child singled out."""
    counted = [(params, true_ids(cases, params)) for params in queries()]
    pairs = []
    for (wide, a), (narrow, b) in itertools.permutations(counted, 2):
        if b < a and len(a - b) == 1 and len(b) >= smallest:
            pairs.append((wide, narrow, next(iter(a - b))))
    return pairs


def assert_no_cell_recoverable(released: list[int | None], total: int | None, label: str) -> None:
    """The linear-programming audit of a one-dimensional table with its total: no hidden cell can be
    worked out to one value by someone who knows that each shown count is within MAX_CHANGE."""
    hidden = np.array([v is None for v in released])
    if not hidden.any():
        return
    values = np.array([np.nan if v is None else float(v) for v in released])
    low, high = feasible_ranges(
        values, hidden, grand_total=np.nan if total is None else float(total), max_change=MAX_CHANGE
    )
    recovered = exactly_recoverable(low, high)
    assert not recovered.any(), f"{label}: hidden cells {np.flatnonzero(recovered)} recoverable: {low} {high}"


def assert_no_small_step(points: list[tuple[float, float]], durations: np.ndarray, events: np.ndarray) -> None:
    """A released curve drops only on the grid, at most once per THRESHOLD events of the group, and
    each drop has at least THRESHOLD true events since a grid step before the drop before it:
    counting its steps tells no one how many children died between them."""
    died = durations[events == 1]
    drops = [(t, s) for (t, s), (_t0, s0) in zip(points[1:], points[:-1], strict=True) if s < s0]
    assert len(drops) <= len(died) // THRESHOLD, f"{len(drops)} drops for {len(died)} events"
    previous = 0.0
    for time, _survival in drops:
        assert abs(time / GRID_DAYS - round(time / GRID_DAYS)) < 1e-6, f"a drop at {time} days, off the grid"
        block = int(((died > previous - GRID_DAYS) & (died <= time)).sum())
        assert block >= THRESHOLD, f"a drop of {block} events at {time} days"
        previous = time
