"""A linear-programming attack on a released count table: how much of each hidden cell can be worked out.

The attacker modelled here sees a table of counts (rows by columns, or a single column) with some cells
hidden and, where they are published, its row totals, column totals and grand total, some of which may
be hidden too. They know that the true counts are non-negative integers; that every row adds up to its
row total, every column to its column total and the totals to the grand total (on the true values,
which are unknown); and that each shown value is within ``max_change`` of the truth (0: shown values are
exact). Every cell and every published total is a variable. For each hidden cell the attacker minimises
and maximises it with ``scipy.optimize.linprog`` and rounds the bounds inward to integers, since the
truth is an integer: ``low = ceil(low - tol)``, ``high = floor(high + tol)``. A cell whose range is a
single value is disclosed.

The equations are the node balances of a flow network (totals to rows, rows to columns, columns to the
grand total), so with integer bounds every vertex of the feasible region is an integer table: the
rounded bounds are then exactly the smallest and largest values of a cell over integer tables.

Not modelled: that hidden cells are known to be small (primary suppression hides 1 to
``threshold - 1``) unless told so through ``hidden_bounds``, e.g. ``(1, 4)``; other tables released
from the same records (linked tables, nested subtotals); and the perturbation's distribution, since
any change up to ``max_change`` is taken as equally possible.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import OptimizeResult, linprog

Floats = NDArray[np.float64]


def feasible_ranges(
    released: ArrayLike,
    hidden: ArrayLike,
    *,
    row_totals: ArrayLike | None = None,
    column_totals: ArrayLike | None = None,
    grand_total: float | None = None,
    max_change: int = 0,
    margin_change: int | None = None,
    hidden_bounds: tuple[ArrayLike, ArrayLike] | None = None,
    tol: float = 1e-6,
) -> tuple[Floats, Floats]:
    """The smallest and largest value each hidden cell can take in a table that fits the release.

    Parameters
    ----------
    released
        Released counts, rows by columns, or one-dimensional for a single column; NaN (or anything)
        where hidden.
    hidden
        Boolean mask of the hidden cells, shaped like ``released``.
    row_totals, column_totals, grand_total
        Released totals with NaN for a hidden one, or None when not published. The total of a
        one-dimensional table is its ``grand_total``.
    max_change
        How far a shown cell may be from the truth.
    margin_change
        How far a shown total may be from the truth; ``max_change`` when None, 0 for exact totals.
    hidden_bounds
        ``(low, high)`` known of hidden cells, scalars or arrays shaped like ``released``.
    tol
        Slack allowed to the solver before the bounds are rounded inward to integers.

    Returns
    -------
    (low, high)
        Float arrays shaped like ``released``: the integer range of each hidden cell (``high`` may be
        infinite), NaN for shown cells.

    Raises
    ------
    ValueError
        When the inputs do not match or no table of non-negative integer counts fits the release.
    """
    values = np.asarray(released, dtype=float)
    mask = np.asarray(hidden, dtype=bool)
    if values.shape != mask.shape or values.ndim not in (1, 2):
        raise ValueError(f"released {values.shape} and hidden {mask.shape} must be one table of one or two dimensions")
    if np.isnan(values[~mask]).any():
        raise ValueError("a shown cell has no released value")
    if max_change < 0 or (margin_change is not None and margin_change < 0):
        raise ValueError("a change cannot be negative")
    margin_change = max_change if margin_change is None else margin_change
    known_low, known_high = (0.0, np.inf) if hidden_bounds is None else hidden_bounds
    known_low = np.broadcast_to(np.asarray(known_low, dtype=float), values.shape)
    known_high = np.broadcast_to(np.asarray(known_high, dtype=float), values.shape)
    column = values.ndim == 1
    if column:
        values, mask, known_low, known_high = (a[:, np.newaxis] for a in (values, mask, known_low, known_high))

    bounds = [
        (max(0.0, lo), hi) if is_hidden else _within(value, max_change)
        for value, is_hidden, lo, hi in zip(values.flat, mask.flat, known_low.flat, known_high.flat, strict=True)
    ]
    equations: list[tuple[list[int], int]] = []  # (parts, total): the parts add up to the total

    def add_margin(published: ArrayLike, lines: list[list[int]], name: str) -> list[int]:
        margin = np.atleast_1d(np.asarray(published, dtype=float))
        if margin.shape != (len(lines),):
            raise ValueError(f"{name} has {margin.size} values for {len(lines)} lines")
        totals = []
        for value, parts in zip(margin, lines, strict=True):
            bounds.append((0.0, np.inf) if np.isnan(value) else _within(value, margin_change))
            equations.append((parts, len(bounds) - 1))
            totals.append(len(bounds) - 1)
        return totals

    cells = np.arange(values.size).reshape(values.shape)
    # The grand total is the sum of the last published margin, which keeps the equations a flow network.
    everything = [int(cell) for cell in cells.flat]
    if row_totals is not None:
        everything = add_margin(row_totals, [[int(c) for c in row] for row in cells], "row_totals")
    if column_totals is not None:
        everything = add_margin(column_totals, [[int(c) for c in col] for col in cells.T], "column_totals")
    if grand_total is not None:
        add_margin(grand_total, [everything], "grand_total")

    a_eq = np.zeros((len(equations), len(bounds)))
    for row, (parts, total) in enumerate(equations):
        a_eq[row, parts] = 1.0
        a_eq[row, total] = -1.0

    def solve(objective: Floats) -> OptimizeResult:
        if not equations:
            return linprog(objective, bounds=bounds, method="highs")
        return linprog(objective, A_eq=a_eq, b_eq=np.zeros(len(equations)), bounds=bounds, method="highs")

    feasible = solve(np.zeros(len(bounds)))
    if feasible.status == 2:
        raise ValueError(
            "no table of non-negative counts fits the released values, totals and max_change: "
            "the release is inconsistent with the attacker's model"
        )
    if feasible.status != 0:
        raise RuntimeError(f"the solver failed: {feasible.message}")

    low, high = np.full(values.shape, np.nan), np.full(values.shape, np.nan)
    for index in zip(*np.nonzero(mask), strict=True):
        objective = np.zeros(len(bounds))
        objective[cells[index]] = 1.0
        low[index] = _optimum(solve(objective))
        high[index] = -_optimum(solve(-objective))
    low, high = np.ceil(low - tol), np.floor(high + tol)
    if (low > high).any():
        raise ValueError("a hidden cell's range holds no integer: no table of integer counts fits the release")
    return (low[:, 0], high[:, 0]) if column else (low, high)


def exactly_recoverable(low: Floats, high: Floats, tol: float = 1e-6) -> NDArray[np.bool_]:
    """The hidden cells whose range is a single value (False for shown cells)."""
    return np.abs(np.asarray(high) - np.asarray(low)) <= tol


def range_width(low: Floats, high: Floats) -> Floats:
    """How far apart each hidden cell's bounds are (NaN for shown cells)."""
    return np.asarray(high, dtype=float) - np.asarray(low, dtype=float)


def _within(value: float, change: int) -> tuple[float, float]:
    return max(0.0, value - change), value + change


def _optimum(result: OptimizeResult) -> float:
    if result.status == 3:  # unbounded: only a maximum can be, sought as the minimum of the negated cell
        return -np.inf
    if result.status != 0:
        raise RuntimeError(f"the solver failed: {result.message}")
    return float(result.fun)
