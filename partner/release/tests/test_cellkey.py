import numpy as np
import pytest

from partner.release.cellkey import (
    KEY_SPACE,
    MAX_CHANGE,
    VARIANCE,
    PerturbationTable,
    cell_key,
    perturbation_table,
    record_key,
)

SECRET = b"a secret of the registry, 32 bytes or more"
OTHER_SECRET = b"another registry's secret, also long enough"


def moments(distribution: dict[int, float]) -> tuple[float, float, float]:
    changes = np.array(list(distribution), dtype=float)
    p = np.array(list(distribution.values()))
    return float(p.sum()), float(p @ changes), float(p @ changes**2)


def released(table: PerturbationTable, case_ids: list[int]) -> int:
    return table.released(len(set(case_ids)), cell_key(SECRET, case_ids))


@pytest.mark.parametrize("threshold", [3, 5, 10])
def test_every_row_has_mean_zero_the_variance_asked_for_and_keeps_a_count_shown_at_or_above_the_threshold(
    threshold: int,
) -> None:
    table = perturbation_table(threshold)

    for count in range(threshold, threshold + 11):
        distribution = table.probabilities(count)
        total, mean, variance = moments(distribution)

        assert abs(total - 1) < 1e-12, count
        assert abs(mean) < 1e-9, count
        if count >= threshold + MAX_CHANGE:
            assert abs(variance - VARIANCE) < 1e-6, count
        else:
            assert variance <= VARIANCE + 1e-9, count
        assert all(p >= 0 for p in distribution.values()), count
        assert all(abs(change) <= MAX_CHANGE for change in distribution), count
        assert all(count + change >= threshold for change, p in distribution.items() if p > 0), count


@pytest.mark.parametrize("threshold", [3, 5, 10])
def test_a_count_at_the_threshold_is_released_unchanged(threshold: int) -> None:
    table = perturbation_table(threshold)

    assert {change: p for change, p in table.probabilities(threshold).items() if p > 0} == {0: 1.0}
    assert {table.change(threshold, key) for key in range(0, KEY_SPACE, KEY_SPACE // 1000)} == {0}
    assert table.change(threshold, KEY_SPACE - 1) == 0


def test_the_changes_drawn_by_evenly_spread_keys_follow_the_table() -> None:
    table = perturbation_table(5)
    keys = np.linspace(0, KEY_SPACE, 200_000, endpoint=False).astype(np.int64).tolist()

    # Every distinct row (the threshold, the one above it, the first symmetric one) and one far above.
    for count in [*range(5, 5 + MAX_CHANGE + 1), 15]:
        expected = table.probabilities(count)
        drawn, frequency = np.unique([table.change(count, key) for key in keys], return_counts=True)
        empirical = dict(zip(drawn.tolist(), (frequency / len(keys)).tolist(), strict=True))

        assert set(empirical) <= set(expected), count
        for change, p in expected.items():
            assert abs(empirical.get(change, 0.0) - p) < 0.005, (count, change)


def test_zero_is_released_as_zero_whatever_the_key() -> None:
    table = perturbation_table(5)

    for key in [0, 1, 12_345, KEY_SPACE // 2, KEY_SPACE - 1, KEY_SPACE, 3 * KEY_SPACE + 7]:
        assert table.change(0, key) == 0
        assert table.released(0, key) == 0
    assert cell_key(SECRET, []) == 0


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_a_count_between_one_and_the_threshold_is_not_released(count: int) -> None:
    table = perturbation_table(5)

    with pytest.raises(ValueError):
        table.change(count, 12_345)
    with pytest.raises(ValueError):
        table.released(count, 12_345)
    with pytest.raises(ValueError):
        table.probabilities(count)


def test_a_record_key_is_the_same_each_time_and_changes_with_the_secret_and_the_case() -> None:
    key = record_key(SECRET, 42)

    assert record_key(SECRET, 42) == key
    assert record_key(bytes(SECRET), 42) == key
    assert record_key(OTHER_SECRET, 42) != key
    assert record_key(SECRET, 43) != key
    assert all(0 <= record_key(SECRET, case_id) < KEY_SPACE for case_id in range(1_000))


def test_record_keys_are_spread_evenly_over_the_key_space() -> None:
    keys = np.array([record_key(SECRET, case_id) for case_id in range(1, 100_001)], dtype=float) / KEY_SPACE

    assert abs(keys.mean() - 0.5) < 0.01
    assert np.allclose(np.histogram(keys, bins=4, range=(0, 1))[0] / len(keys), 0.25, atol=0.01)
    assert len(np.unique(keys)) > 99_990


def test_a_cell_key_depends_only_on_the_set_of_cases_and_is_the_sum_of_their_record_keys() -> None:
    cases = [3, 17, 256, 9_001, 123_456]
    key = cell_key(SECRET, cases)

    assert cell_key(SECRET, list(reversed(cases))) == key
    assert cell_key(SECRET, cases + cases[:2]) == key
    assert cell_key(SECRET, iter(set(cases))) == key
    assert key == sum(record_key(SECRET, case_id) for case_id in cases) % KEY_SPACE
    assert cell_key(SECRET, cases[:-1]) != key
    assert cell_key(OTHER_SECRET, cases) != key
    assert 0 <= key < KEY_SPACE


def test_the_sum_of_record_keys_wraps_around_the_key_space() -> None:
    cases = range(1, 201)  # 200 keys of about 2**31 each add up to far more than 2**32

    assert sum(record_key(SECRET, case_id) for case_id in cases) > KEY_SPACE
    assert cell_key(SECRET, cases) == sum(record_key(SECRET, case_id) for case_id in cases) % KEY_SPACE


def test_subtracting_the_released_counts_of_two_sets_one_case_apart_rarely_gives_the_true_difference() -> None:
    table = perturbation_table(5)
    rng = np.random.default_rng(20_260_101)
    differences = []
    for _ in range(2_000):
        ids = rng.choice(1_000_000, size=int(rng.integers(20, 201)) + 1, replace=False).tolist()
        without, case = ids[:-1], ids[-1]
        differences.append(released(table, [*without, case]) - released(table, without))

    # Both counts are far enough above the threshold to use the symmetric row, so the difference is
    # 1 + c1 - c2 for two independent changes; it is the truth when c1 == c2.
    symmetric = np.array(list(table.probabilities(100).values()))
    expected_share = float(symmetric @ symmetric)
    share = np.mean(np.array(differences) == 1)

    assert expected_share < 0.4
    assert abs(share - expected_share) < 0.04
    assert len(set(differences)) >= 4
    assert all(abs(difference - 1) <= 2 * MAX_CHANGE for difference in differences)


@pytest.mark.parametrize("threshold", [0, -1])
def test_a_table_needs_a_threshold_of_one_or_more(threshold: int) -> None:
    with pytest.raises(ValueError):
        perturbation_table(threshold)


def test_a_table_needs_a_variance_of_zero_or_more() -> None:
    with pytest.raises(ValueError):
        perturbation_table(5, variance=-0.5)


def test_a_table_with_no_variance_changes_nothing() -> None:
    table = perturbation_table(5, variance=0.0)

    assert {table.change(count, key) for count in range(5, 20) for key in range(0, KEY_SPACE, KEY_SPACE // 50)} == {0}
