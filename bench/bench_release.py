"""The release layer against suppression alone: what an attacker can work out, and what it costs.

1. Disclosure audit. Random two-dimensional count tables (2-6 rows by 2-5 columns, negative
   binomial counts around a mean drawn between 1 and 15, so small cells are common), each cell a
   set of synthetic case ids, with row totals, column totals and grand total published. Figure:
   `Release.crosstab` for the interior and row totals, `Release.counts` for the column totals and
   grand total (each count with its own cell key); the attacker takes every shown value, totals
   included, to be within 2 of the truth. Peer, on the same tables: `suppress` of the true counts
   with their margins, shown values exact. For every hidden interior cell the linear-programming
   audit (`partner.release.tests.audit.feasible_ranges`) gives the smallest and largest value it
   can take; printed are the cells recovered exactly, those left with at most 3 possible values,
   and the median width of the ranges. The attacker is not told that zeros are never changed,
   that a shown count is at least the threshold, nor that a primary cell is below it.
2. Differencing. Pairs of sets of cases (S of 8 to 300, S and one case more), each released by
   `Release.count`: the share of pairs whose released counts differ by exactly 1 (peer, exact
   figures: 100 %), and the differences seen.
3. Speed. A 6x5 table through `Release.crosstab` against `suppress` alone on the same counts (the
   suppression the layer itself calls), and a survival curve of 1,000 children through
   `Release.curve` (Kaplan-Meier fit, then `released_curve` with counts by cell key) against
   lifelines' `KaplanMeierFitter.fit` alone. Every case id is new to the run, so no record key is
   cached. A ratio above 1 is what the layer costs over its peer.

The key of the record keys is fixed for the run, so the figures repeat from run to run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _registry  # noqa: F401  (debug settings, Django set up; no database is read)
import numpy as np
import pandas as pd
from django.test import override_settings
from lifelines import KaplanMeierFitter

from partner.analysis.suppression import suppress
from partner.release import TOTAL, Policy, Release
from partner.release.tests.audit import feasible_ranges

THRESHOLD = 5
MAX_CHANGE = 2
TABLES = 2_000  # about 2 min on this machine shared with other work; 3,000 took 4 min
PAIRS = 2_000
SPEED_TABLES = 200
CHILDREN = 1_000
CURVES = 20

#: What an attacker sees of a table: interior, row totals, column totals, grand total (NaN where hidden).
Shown = tuple[np.ndarray, np.ndarray, np.ndarray, float]


def random_table(rng: np.random.Generator, shape: tuple[int, int] | None = None) -> np.ndarray:
    rows, columns = shape or (int(rng.integers(2, 7)), int(rng.integers(2, 6)))
    mean = rng.uniform(1, 15)
    return rng.negative_binomial(2, 2 / (2 + mean), size=(rows, columns))


def as_cases(counts: np.ndarray, first_id: int) -> tuple[pd.Series, pd.Series, pd.Series]:
    """One case per unit of each cell, with consecutive ids from `first_id`; every level kept."""
    rows, columns = np.indices(counts.shape)
    n = counts.ravel()
    ids = pd.Series(np.arange(first_id, first_id + n.sum()))
    row = pd.Categorical(np.repeat(rows.ravel(), n), categories=range(counts.shape[0]))
    column = pd.Categorical(np.repeat(columns.ravel(), n), categories=range(counts.shape[1]))
    return ids, pd.Series(row), pd.Series(column)


def with_margins(counts: np.ndarray) -> pd.DataFrame:
    table = pd.DataFrame(counts, columns=range(counts.shape[1]))
    table[TOTAL] = table.sum(axis=1)
    table.loc[TOTAL] = table.sum()
    return table


def floats(values: pd.Series | pd.DataFrame) -> np.ndarray:
    return values.to_numpy(dtype=float, na_value=np.nan)


def suppressed(counts: np.ndarray) -> Shown:
    table = suppress(with_margins(counts), [*range(counts.shape[1]), TOTAL], threshold=THRESHOLD, total=TOTAL)
    grid = floats(table)
    return grid[:-1, :-1], grid[:-1, -1], grid[-1, :-1], float(grid[-1, -1])


def released(release: Release, counts: np.ndarray, first_id: int) -> Shown:
    ids, rows, columns = as_cases(counts, first_id)
    table = release.crosstab(ids, rows, columns)
    margin = release.counts({j: ids[columns == j] for j in range(counts.shape[1])}, total=ids)
    return (
        floats(table.drop(columns=TOTAL)),
        floats(table[TOTAL]),
        floats(margin.drop(TOTAL)),
        floats(margin.loc[[TOTAL]])[0],
    )


def widths(shown: Shown, max_change: int) -> np.ndarray:
    """The width of each hidden interior cell's range of possible values (0: recovered exactly)."""
    interior, row_totals, column_totals, grand_total = shown
    hidden = np.isnan(interior)
    if not hidden.any():
        return np.empty(0)
    low, high = feasible_ranges(
        interior,
        hidden,
        row_totals=row_totals,
        column_totals=column_totals,
        grand_total=grand_total,
        max_change=max_change,
    )
    return (high - low)[hidden]


def audit_table(release: Release, counts: np.ndarray, first_id: int) -> tuple[np.ndarray, np.ndarray]:
    return widths(suppressed(counts), 0), widths(released(release, counts, first_id), MAX_CHANGE)


def audit(release: Release, tables: int) -> None:
    rng = np.random.default_rng(2024)
    drawn = [random_table(rng) for _ in range(tables)]
    first_ids = 1 + np.concatenate([[0], np.cumsum([t.sum() for t in drawn])])
    with multiprocessing.get_context("fork").Pool() as pool:  # one table per task: LPs on every core
        found = pool.starmap(
            audit_table,
            [(release, t, int(first)) for t, first in zip(drawn, first_ids[:-1], strict=True)],
            chunksize=20,
        )
    print(f"1. disclosure audit of {tables:,} random tables ({first_ids[-1] - 1:,} cases), LP attack per hidden cell")
    labels = ["suppression alone, exact values", f"release layer, shown values ±{MAX_CHANGE}"]
    for side, label in enumerate(labels):
        w = np.concatenate([pair[side] for pair in found])
        print(
            f"   {label:<36} hidden cells {w.size:>6,}   recovered exactly {int((w == 0).sum()):>4,}"
            f"   at most 3 values {int((w <= 2).sum()):>5,} ({(w <= 2).mean():.1%})"
            f"   median range width {np.median(w):.0f}"
        )


def differencing(release: Release, first_id: int) -> None:
    rng = np.random.default_rng(7)
    differences: Counter[int] = Counter()
    for pair in range(PAIRS):
        size = int(rng.integers(8, 301))
        ids = np.arange(first_id, first_id + size + 1) + pair * 301
        smaller, larger = release.count(ids[:-1].tolist()), release.count(ids.tolist())
        assert smaller is not None and larger is not None
        differences[larger - smaller] += 1
    share = differences[1] / PAIRS
    seen = "  ".join(f"{d:+d}: {n}" for d, n in sorted(differences.items()))
    print(f"2. differencing, {PAIRS:,} pairs (S of 8-300 cases, S and one more)")
    print(f"   released difference exactly 1: {share:.1%} of pairs (peer, exact figures: 100.0 %)")
    print(f"   {len(differences)} distinct differences: {seen}")


def per_call(work: Callable[[int], object], times: int) -> float:
    """Mean milliseconds of `work(i)` over `times` calls."""
    start = time.perf_counter()
    for i in range(times):
        work(i)
    return (time.perf_counter() - start) / times * 1000


def speed(release: Release, first_id: int) -> None:
    rng = np.random.default_rng(11)
    tables = [random_table(rng, (6, 5)) for _ in range(SPEED_TABLES)]
    starts = first_id + np.concatenate([[0], np.cumsum([t.sum() for t in tables])])
    cases = [as_cases(t, int(s)) for t, s in zip(tables, starts[:-1], strict=True)]
    per_row = [with_margins(t).drop(index=TOTAL) for t in tables]
    layer = per_call(lambda i: release.crosstab(*cases[i]), SPEED_TABLES)
    peer = per_call(lambda i: suppress(per_row[i], [*range(5), TOTAL], threshold=THRESHOLD, total=TOTAL), SPEED_TABLES)
    print(f"3. speed, {SPEED_TABLES} random 6x5 tables (about {int(starts[-1] - first_id) // SPEED_TABLES} cases each)")
    print(f"   Release.crosstab {layer:.1f} ms a table; peer, suppress alone {peer:.1f} ms; ratio {layer / peer:.1f}")

    durations = pd.Series(rng.exponential(1800, CHILDREN).round() + 1)
    last_contact = pd.Series(rng.uniform(60, 4000, CHILDREN).round())
    events = (durations <= last_contact).astype(int)
    durations = durations.where(events == 1, last_contact)
    first = int(starts[-1])

    def curve(i: int) -> object:
        return release.curve(pd.Series(np.arange(CHILDREN) + first + i * CHILDREN), durations, events)

    layer = per_call(curve, CURVES)
    peer = per_call(lambda _i: KaplanMeierFitter().fit(durations, events), CURVES)
    print(f"   survival of {CHILDREN:,} children ({int(events.sum())} deaths), mean of {CURVES} curves:")
    print(f"   Release.curve {layer:.1f} ms; peer, KaplanMeierFitter.fit {peer:.1f} ms; ratio {layer / peer:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=TABLES, help=f"random tables audited (default {TABLES:,})")
    args = parser.parse_args()
    with override_settings(PSEUDONYM_KEY="a fixed key, so that the bench's cell keys repeat"):
        release = Release(None, Policy(exact=False, threshold=THRESHOLD))
    start = time.perf_counter()
    audit(release, args.tables)
    audited = time.perf_counter() - start
    differencing(release, 10**8)
    speed(release, 2 * 10**8)
    print(f"audit {audited:.0f} s, whole bench {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
