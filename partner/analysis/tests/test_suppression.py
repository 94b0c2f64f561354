import numpy as np
import pandas as pd
import pytest

from partner.analysis.suppression import suppress, suppress_series


def with_totals(interior: list[list[int]], rows=None, columns=None) -> pd.DataFrame:
    rows = rows or [f"r{i}" for i in range(len(interior))]
    columns = columns or [f"c{j}" for j in range(len(interior[0]))]
    table = pd.DataFrame(interior, index=rows, columns=columns)
    table["Total"] = table.sum(axis=1)
    table.loc["Total"] = table.sum()
    return table


def equations(published: pd.DataFrame) -> list[tuple[list[tuple], tuple]]:
    """What a reader knows of a table with a Total row and column: each line adds up to its total."""
    rows = [label for label in published.index if label != "Total"]
    columns = [label for label in published.columns if label != "Total"]
    lines = [([(row, column) for column in columns], (row, "Total")) for row in [*rows, "Total"]]
    lines += [([(row, column) for row in rows], ("Total", column)) for column in [*columns, "Total"]]
    return lines


def recovered_by_subtraction(published: pd.DataFrame) -> dict[tuple, int]:
    """Repeatedly take a line with one hidden cell and subtract the visible ones from its total."""
    known = {(r, c): published.loc[r, c] for r in published.index for c in published.columns}
    recovered: dict[tuple, int] = {}
    progress = True
    while progress:
        progress = False
        for parts, total in equations(published):
            unknown = [cell for cell in [*parts, total] if pd.isna(known[cell])]
            if len(unknown) != 1:
                continue
            (cell,) = unknown
            if cell == total:
                known[cell] = sum(known[p] for p in parts)
            else:
                known[cell] = known[total] - sum(known[p] for p in parts if p != cell)
            recovered[cell] = int(known[cell])
            progress = True
    return recovered


def recovered_by_linear_algebra(published: pd.DataFrame) -> set[tuple]:
    """Hidden cells whose value follows from the equations, however they are combined.

    A hidden cell is determined when its indicator vector lies in the row space of the equations
    restricted to the hidden cells.
    """
    hidden = [(r, c) for r in published.index for c in published.columns if pd.isna(published.loc[r, c])]
    position = {cell: k for k, cell in enumerate(hidden)}
    matrix = []
    for parts, total in equations(published):
        row = np.zeros(len(hidden))
        for cell in parts:
            if cell in position:
                row[position[cell]] += 1
        if total in position:
            row[position[total]] -= 1
        matrix.append(row)
    a = np.array(matrix)
    rank = np.linalg.matrix_rank(a)
    unit = np.eye(len(hidden))
    return {cell for cell, k in position.items() if np.linalg.matrix_rank(np.vstack([a, unit[k]])) == rank}


def hidden_cells(result: pd.DataFrame) -> set[tuple]:
    mask = result.attrs["suppressed"]
    return {(r, c) for r in mask.index for c in mask.columns if mask.loc[r, c]}


def assert_nothing_recoverable(result: pd.DataFrame) -> None:
    published = result.astype(object).where(result.notna(), np.nan)
    assert recovered_by_subtraction(published) == {}
    assert recovered_by_linear_algebra(published) == set()


def test_a_small_cell_and_its_complements_are_hidden_and_cannot_be_recovered():
    interior = [[3, 12, 20], [10, 9, 31], [14, 25, 40]]
    table = with_totals(interior, rows=["IT", "FR", "DE"], columns=["0-4", "5-9", "10-14"])

    result = suppress(table, list(table.columns))

    hidden = hidden_cells(result)
    assert ("IT", "0-4") in hidden
    assert any(row == "IT" and column != "0-4" for row, column in hidden)
    assert any(column == "0-4" and row != "IT" for row, column in hidden)
    assert all(pd.isna(result.loc[r, c]) for r, c in hidden)
    assert result.loc["Total", "Total"] == 164
    assert_nothing_recoverable(result)


def test_without_its_complements_the_small_cell_is_recovered_by_the_attacker():
    table = with_totals([[3, 12], [10, 9]])
    published = table.astype(object)
    published.loc["r0", "c0"] = np.nan
    assert recovered_by_subtraction(published) == {("r0", "c0"): 3}


def test_a_hidden_cell_bridging_two_hidden_rectangles_is_protected_too():
    # Every row and column has zero or several small cells, yet r0/c2 follows from the equations.
    interior = [
        [1, 2, 3, 20, 30],
        [4, 2, 25, 21, 31],
        [22, 23, 1, 2, 32],
        [24, 26, 3, 4, 33],
        [27, 28, 29, 34, 35],
    ]
    table = with_totals(interior)
    primary = table.astype(object).where(~((table >= 1) & (table < 5)), np.nan)
    assert recovered_by_subtraction(primary) == {}
    assert ("r0", "c2") in recovered_by_linear_algebra(primary)

    assert_nothing_recoverable(suppress(table, list(table.columns)))


@pytest.mark.parametrize("seed", range(40))
def test_no_hidden_cell_of_a_random_table_can_be_recovered(seed):
    generator = np.random.default_rng(seed)
    table = with_totals(generator.poisson(generator.uniform(1, 12), size=generator.integers(2, 6, size=2)).tolist())
    assert_nothing_recoverable(suppress(table, list(table.columns)))

    # Totals published elsewhere are known to the attacker as well.
    interior = table.drop(index="Total", columns="Total")
    result = suppress(interior, list(interior.columns))
    published = result.astype(object).where(result.notna(), np.nan)
    published["Total"] = table["Total"]
    published.loc["Total"] = table.loc["Total"]
    assert recovered_by_linear_algebra(published) == set()


def test_a_table_without_small_cells_is_unchanged():
    table = with_totals([[5, 12, 0], [10, 9, 31]])
    result = suppress(table, list(table.columns))
    assert result.equals(table.astype("Int64"))
    assert not result.attrs["suppressed"].any(axis=None)


def test_zeros_are_shown_and_the_threshold_is_configurable():
    table = with_totals([[0, 3, 12], [6, 8, 31]])
    assert suppress(table, list(table.columns), threshold=3).equals(table.astype("Int64"))
    strict = suppress(table, list(table.columns), threshold=10)
    assert strict.loc["r0", "c0"] == 0
    assert {("r0", "c1"), ("r1", "c0"), ("r1", "c1")} <= hidden_cells(strict)
    assert_nothing_recoverable(strict)


def test_without_published_totals_only_the_small_cells_are_hidden():
    table = pd.DataFrame({"F": [3, 12], "M": [10, 9]}, index=["IT", "FR"])
    assert hidden_cells(suppress(table, ["F", "M"], margins=False)) == {("IT", "F")}
    assert len(hidden_cells(suppress(table, ["F", "M"]))) == 4


def test_other_columns_are_copied_and_a_small_total_is_hidden():
    table = pd.DataFrame({"site": ["adrenal", "pancreas", "all"], "cases": [2, 1, 3]}, index=["a", "b", "Total"])
    result = suppress(table, ["cases"])
    assert result.site.tolist() == ["adrenal", "pancreas", "all"]
    assert result.cases.isna().all()


def test_it_refuses_totals_that_do_not_add_up_and_missing_counts():
    table = with_totals([[3, 12], [10, 9]])
    table.loc["Total", "c0"] = 14
    with pytest.raises(ValueError, match="'Total' row is not the sum"):
        suppress(table, list(table.columns))
    with pytest.raises(ValueError, match="non-negative integers"):
        suppress(pd.DataFrame({"n": [1.0, np.nan]}), ["n"])


def test_a_series_with_one_small_cell_hides_the_next_smallest_too():
    counts = pd.Series({"IT": 3, "FR": 12, "DE": 8, "ES": 9, "Total": 32}, name="cases")
    result = suppress_series(counts)
    assert result.isna().tolist() == [True, False, True, False, False]
    assert result["Total"] == 32
    assert result.attrs["suppressed"].sum() == 2


def test_a_series_whose_other_cells_are_zero_hides_its_total():
    result = suppress_series(pd.Series({"IT": 3, "FR": 0, "DE": 0, "Total": 3}))
    assert result.isna().tolist() == [True, False, False, True]


def test_a_series_without_a_total_is_protected_against_its_published_total():
    result = suppress_series(pd.Series({"IT": 3, "FR": 12, "DE": 8}))
    assert result.isna().tolist() == [True, False, True]


def test_the_total_row_and_column_may_come_first():
    table = with_totals([[3, 12, 20], [10, 9, 31], [14, 25, 40]])
    reordered = table.loc[["Total", "r0", "r1", "r2"], ["Total", "c0", "c1", "c2"]]
    result = suppress(reordered, list(reordered.columns))
    expected = suppress(table, list(table.columns)).attrs["suppressed"]
    assert result.attrs["suppressed"].equals(expected.loc[reordered.index, reordered.columns])
