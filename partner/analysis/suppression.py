"""Small-cell suppression for count tables that leave the registry.

Primary suppression hides every count from 1 to ``threshold - 1``. A zero is shown: it says that
nobody has the characteristic, which identifies no one, and hiding zeros would make most tables of
very rare tumours empty.

Secondary suppression then hides further cells until no hidden cell can be worked out from the
visible ones and the totals. A table with its margins is a set of linear equations (each row sums
to its row total, each column to its column total, the totals to the grand total). Seen as a graph
whose nodes are the rows and columns (totals included) and whose edges are the hidden cells, a
hidden cell can be solved for exactly when its edge lies on no cycle. Checking only that no row or
column has a single hidden cell is not enough: two hidden rectangles joined by one hidden cell
leave that cell solvable. So every hidden cell that lies on no cycle is put on one by hiding the
cheapest chain of visible cells that closes it (the smallest non-zero counts first; zeros and
published totals only when nothing else will do).

The table is one dimension (one value column) or two (rows by value columns); a row labelled
``total`` and a value column named ``total`` are its margins. Totals that are not in the table are
assumed to be published elsewhere when ``margins`` is true. Nested subtotals are not understood:
suppress each sub-table, or pivot a long table to rows by columns first. Only exact recovery is
prevented; a hidden cell's range (between zero and the sum it is hidden with) stays visible.
"""

from __future__ import annotations

import heapq
from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

HIDDEN, SHOWN, LOCKED = "hidden", "shown", "locked"


def suppress(
    table: pd.DataFrame,
    value_columns: Sequence[Hashable],
    *,
    threshold: int = 5,
    margins: bool = True,
    total: Hashable = "Total",
) -> pd.DataFrame:
    """Hide small counts and the cells that would let them be recovered.

    Parameters
    ----------
    table
        Counts in ``value_columns`` (non-negative integers); other columns are copied unchanged.
    value_columns
        The count columns; one for a one-dimensional table.
    threshold
        Counts from 1 to ``threshold - 1`` are hidden.
    margins
        Whether the row and column totals are known to readers even when not in the table.
    total
        Label of the total row and name of the total column, when the table has them.

    Returns
    -------
    DataFrame
        A copy whose hidden counts are ``pd.NA`` (value columns become ``Int64``), with the mask of
        hidden cells in ``.attrs["suppressed"]``.

    Examples
    --------
    >>> table = pd.DataFrame({"F": [3, 10, 13], "M": [12, 9, 21], "Total": [15, 19, 34]},
    ...                      index=["IT", "FR", "Total"])
    >>> int(suppress(table, ["F", "M", "Total"]).attrs["suppressed"].sum().sum())
    4
    """
    values = table[list(value_columns)]
    counts = values.to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(counts).any() or (counts < 0).any() or (counts != np.round(counts)).any():
        raise ValueError("counts must be non-negative integers without missing values")
    counts = counts.astype(np.int64)
    total_row = _is_total(values.index, total)
    total_column = _is_total(values.columns, total)
    _check_totals(counts, total_row, total_column, total)
    interior = counts[~total_row][:, ~total_column]
    rows, columns = interior.shape
    has_total_row, has_total_column = bool(total_row.any()), bool(total_column.any())

    grid, state = _augmented(interior, margins=margins, row_margin=columns > 1, column_margin=rows > 1)
    shown_in_table = np.zeros(grid.shape, dtype=bool)
    shown_in_table[:rows, :columns] = True
    shown_in_table[rows, :columns] = has_total_row
    shown_in_table[:rows, columns] = has_total_column
    shown_in_table[rows, columns] = has_total_row and has_total_column
    state[shown_in_table] = SHOWN
    primary = shown_in_table & (grid >= 1) & (grid < threshold)
    state[primary] = HIDDEN
    _protect(grid, state, sensitive=shown_in_table)

    in_grid = np.ix_(_grid_positions(total_row), _grid_positions(total_column))
    mask = pd.DataFrame((state == HIDDEN)[in_grid], index=values.index, columns=values.columns)
    result = table.copy()
    for column in values.columns:
        result[column] = values[column].astype("Int64").mask(mask[column])
    result.attrs["suppressed"] = mask
    result.attrs["threshold"] = threshold
    return result


def suppress_series(counts: pd.Series, threshold: int = 5, *, total: Hashable = "Total") -> pd.Series:
    """Suppress a one-dimensional table: its small counts, and one more if a single one is hidden.

    The total, when ``counts`` has one, stays shown unless a lone hidden cell can only be
    protected by hiding it.

    Examples
    --------
    >>> counts = pd.Series({"IT": 3, "FR": 12, "DE": 8, "Total": 23})
    >>> suppress_series(counts).isna().tolist()
    [True, False, True, False]
    """
    name = counts.name if counts.name is not None else "count"
    frame = suppress(counts.to_frame(name), [name], threshold=threshold, total=total)
    result = frame[name]
    result.attrs = {"suppressed": frame.attrs["suppressed"][name], "threshold": threshold}
    return result


def _is_total(labels: pd.Index, total: Hashable) -> np.ndarray:
    is_total = np.array([label == total for label in labels], dtype=bool)
    if is_total.sum() > 1:
        raise ValueError(f"more than one {total!r} row or column")
    return is_total


def _grid_positions(is_total: np.ndarray) -> np.ndarray:
    """Where each row (or column) of the table sits in the augmented grid, whose margin comes last."""
    return np.where(is_total, (~is_total).sum(), np.cumsum(~is_total) - 1)


def _check_totals(counts: np.ndarray, total_row: np.ndarray, total_column: np.ndarray, total: Hashable) -> None:
    if (total_row.any() and total_row.all()) or (total_column.any() and total_column.all()):
        raise ValueError("a table with a total needs at least one other row and column")
    if total_row.any() and (counts[total_row][0] != counts[~total_row].sum(axis=0)).any():
        raise ValueError(f"the {total!r} row is not the sum of the other rows")
    if total_column.any() and (counts[:, total_column][:, 0] != counts[:, ~total_column].sum(axis=1)).any():
        raise ValueError(f"the {total!r} column is not the sum of the other columns")


def _augmented(
    interior: np.ndarray, *, margins: bool, row_margin: bool, column_margin: bool
) -> tuple[np.ndarray, np.ndarray]:
    """The table with its row totals, column totals and grand total, and what a reader knows of each.

    A margin that a reader cannot know (``margins`` false, or a one-dimensional table whose
    "row totals" are the cells themselves) starts hidden, which removes its equation.
    """
    rows, columns = interior.shape
    grid = np.zeros((rows + 1, columns + 1), dtype=np.int64)
    grid[:rows, :columns] = interior
    grid[:rows, columns] = interior.sum(axis=1)
    grid[rows, :columns] = interior.sum(axis=0)
    grid[rows, columns] = interior.sum()
    state = np.full(grid.shape, LOCKED, dtype=object)
    if not (margins and row_margin):
        state[:rows, columns] = HIDDEN
    if not (margins and column_margin):
        state[rows, :columns] = HIDDEN
    if not (margins and row_margin and column_margin):
        state[rows, columns] = HIDDEN
    return grid, state


def _protect(grid: np.ndarray, state: np.ndarray, sensitive: np.ndarray) -> None:
    """Hide shown cells until every hidden cell of the table lies on a cycle of hidden cells."""
    zero_cost = float(grid.sum()) + 1
    changed = True
    while changed:
        changed = False
        hidden = [(int(i), int(j)) for i, j in zip(*np.nonzero((state == HIDDEN) & sensitive), strict=True)]
        for cell in sorted(hidden, key=lambda c: grid[c]):
            if _on_cycle(state, cell):
                continue
            path = _cheapest_closing_path(grid, state, cell, zero_cost)
            if path is None:
                raise ValueError(f"cannot protect the hidden cell at {cell}: every other cell is fixed")
            for other in path:
                state[other] = HIDDEN
            changed = True


def _neighbours(state: np.ndarray, node: tuple[str, int]) -> list[tuple[tuple[str, int], tuple[int, int]]]:
    """The nodes across each cell of a row or column node, with that cell."""
    side, index = node
    if side == "row":
        return [(("column", j), (index, j)) for j in range(state.shape[1])]
    return [(("row", i), (i, index)) for i in range(state.shape[0])]


def _on_cycle(state: np.ndarray, cell: tuple[int, int]) -> bool:
    start, goal = ("row", cell[0]), ("column", cell[1])
    seen, frontier = {start}, [start]
    while frontier:
        node = frontier.pop()
        for other, through in _neighbours(state, node):
            if through != cell and state[through] == HIDDEN and other not in seen:
                if other == goal:
                    return True
                seen.add(other)
                frontier.append(other)
    return False


def _cheapest_closing_path(
    grid: np.ndarray, state: np.ndarray, cell: tuple[int, int], zero_cost: float
) -> list[tuple[int, int]] | None:
    """Shown cells to hide so that ``cell`` lies on a cycle, by Dijkstra over rows and columns."""
    start, goal = ("row", cell[0]), ("column", cell[1])
    best: dict[tuple[str, int], float] = {start: 0.0}
    came_from: dict[tuple[str, int], tuple[tuple[str, int], tuple[int, int]]] = {}
    queue: list[tuple[float, tuple[str, int]]] = [(0.0, start)]
    while queue:
        cost, node = heapq.heappop(queue)
        if node == goal:
            break
        if cost > best[node]:
            continue
        for other, through in _neighbours(state, node):
            if through == cell or state[through] == LOCKED:
                continue
            # Each extra cell costs a little so that, between equal sums, fewer cells are hidden.
            step = 0.0 if state[through] == HIDDEN else (grid[through] or zero_cost) + 1e-6
            if cost + step < best.get(other, np.inf):
                best[other] = cost + step
                came_from[other] = (node, through)
                heapq.heappush(queue, (cost + step, other))
    if goal not in came_from:
        return None
    path, node = [], goal
    while node != start:
        node, through = came_from[node]
        if state[through] == SHOWN:
            path.append(through)
    return path
