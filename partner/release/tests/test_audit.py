import numpy as np
import pytest

from partner.release.tests.audit import exactly_recoverable, feasible_ranges, range_width

nan = np.nan

# Rows add up to 13 and 27, columns to 10 and 30, everything to 40.
TRUTH = np.array([[3.0, 10.0], [7.0, 20.0]])
MARGINS = {"row_totals": [13, 27], "column_totals": [10, 30], "grand_total": 40}


def released(truth: np.ndarray, hidden: np.ndarray) -> np.ndarray:
    return np.where(hidden, nan, truth)


def test_it_recovers_a_single_hidden_cell_from_the_published_totals() -> None:
    hidden = np.array([[True, False], [False, False]])

    low, high = feasible_ranges(released(TRUTH, hidden), hidden, **MARGINS)

    assert (low[0, 0], high[0, 0]) == (3, 3)
    assert exactly_recoverable(low, high).tolist() == [[True, False], [False, False]]
    assert np.isnan(low[~hidden]).all() and np.isnan(high[~hidden]).all()


def test_hiding_the_row_total_too_does_not_protect_the_cell_its_column_still_gives_it_away() -> None:
    hidden = np.array([[True, False], [False, False]])
    margins = {**MARGINS, "row_totals": [nan, 27]}

    low, high = feasible_ranges(released(TRUTH, hidden), hidden, **margins)

    assert (low[0, 0], high[0, 0]) == (3, 3)


def test_a_hidden_rectangle_leaves_each_cell_a_range_of_eleven_values() -> None:
    hidden = np.ones((2, 2), dtype=bool)

    low, high = feasible_ranges(released(TRUTH, hidden), hidden, **MARGINS)

    # With t the top-left cell the table is [[t, 13 - t], [10 - t, 17 + t]], non-negative for t in 0..10.
    assert low.tolist() == [[0, 3], [0, 17]]
    assert high.tolist() == [[10, 13], [10, 27]]
    assert not exactly_recoverable(low, high).any()
    assert range_width(low, high).tolist() == [[10, 10], [10, 10]]
    assert (low <= TRUTH).all() and (high >= TRUTH).all()


def test_a_perturbation_of_two_widens_a_single_hidden_cell_to_a_range() -> None:
    hidden = np.array([[True, False], [False, False]])
    perturbed = np.array([[nan, 11.0], [6.0, 21.0]])  # the truth 10, 7, 20 moved by +1, -1, +1

    low, high = feasible_ranges(perturbed, hidden, **MARGINS, max_change=2, margin_change=0)

    # Top right is in 9..13 and top left = 13 - top right; top right = 30 - bottom right, in 7..11,
    # so top right is in 9..11 and top left in 2..4. Bottom left in 4..8 agrees: top left = 10 - it.
    assert (low[0, 0], high[0, 0]) == (2, 4)
    assert range_width(low, high)[0, 0] == 2
    assert not exactly_recoverable(low, high)[0, 0]


def test_the_perturbed_values_taken_as_exact_do_not_fit_the_totals() -> None:
    hidden = np.array([[True, False], [False, False]])
    perturbed = np.array([[nan, 11.0], [6.0, 21.0]])

    with pytest.raises(ValueError, match="inconsistent"):
        feasible_ranges(perturbed, hidden, **MARGINS)


def test_in_one_column_two_hidden_cells_share_what_the_total_leaves() -> None:
    truth = np.array([2.0, 6.0, 1.0, 9.0])
    hidden = np.array([True, False, True, False])

    low, high = feasible_ranges(released(truth, hidden), hidden, grand_total=18)

    # The two hidden cells add up to 18 - 6 - 9 = 3.
    assert low.shape == high.shape == (4,)
    assert np.nan_to_num(low, nan=-1).tolist() == [0, -1, 0, -1]
    assert np.nan_to_num(high, nan=-1).tolist() == [3, -1, 3, -1]


def test_knowing_hidden_cells_lie_in_one_to_four_narrows_their_ranges() -> None:
    truth = np.array([2.0, 6.0, 1.0, 9.0])
    hidden = np.array([True, False, True, False])

    low, high = feasible_ranges(released(truth, hidden), hidden, grand_total=18, hidden_bounds=(1, 4))

    assert (low[0], high[0], low[2], high[2]) == (1, 2, 1, 2)


def test_a_hidden_cell_with_no_total_published_has_no_upper_bound() -> None:
    hidden = np.array([[True, False], [False, False]])

    low, high = feasible_ranges(released(TRUTH, hidden), hidden)

    assert (low[0, 0], high[0, 0]) == (0, np.inf)


def test_it_refuses_a_release_no_table_of_counts_fits() -> None:
    hidden = np.array([[True, False], [False, False]])
    inconsistent = np.array([[nan, 15.0], [7.0, 20.0]])  # more in the top right than in its whole row

    with pytest.raises(ValueError, match="inconsistent with the attacker's model"):
        feasible_ranges(inconsistent, hidden, **MARGINS, max_change=1)


def test_it_refuses_a_shown_cell_without_a_value() -> None:
    with pytest.raises(ValueError, match="shown cell has no released value"):
        feasible_ranges(np.array([[nan, 1.0]]), np.array([[False, False]]))
