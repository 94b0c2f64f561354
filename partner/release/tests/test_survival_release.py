import math
from collections.abc import Collection

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter

from partner.release.cellkey import cell_key, perturbation_table
from partner.release.survival import GRID_DAYS, Curve, exact_curve, released_curve


def fit(durations: np.ndarray, events: np.ndarray) -> KaplanMeierFitter:
    return KaplanMeierFitter().fit(np.asarray(durations, dtype=float), np.asarray(events, dtype=int))


def cohort(seed: int, n: int = 120, scale: float = 900.0, follow_up: float = 1_500.0) -> KaplanMeierFitter:
    """Children who die at exponential times (days) and are last seen at uniform times."""
    rng = np.random.default_rng(seed)
    death = np.ceil(rng.exponential(scale, n))
    last_seen = np.ceil(rng.uniform(0, follow_up, n))
    return fit(np.minimum(death, last_seen), death <= last_seen)


def blocks(kmf: KaplanMeierFitter, curve: Curve) -> list[int]:
    """The true events behind each drop of `curve`: those after the Kaplan-Meier estimate last took
    the previous value drawn, up to the time it first takes the value drawn now."""
    survival = kmf.survival_function_.iloc[:, 0]
    observed = kmf.event_table["observed"]
    counts = []
    previous = -math.inf
    for value in block_ends(curve)["survival"]:
        reached = survival.index[survival.to_numpy() == value]
        assert len(reached), f"{value} is not a value of the Kaplan-Meier estimate"
        counts.append(int(observed[(observed.index > previous) & (observed.index <= reached[0])].sum()))
        previous = reached[0]
    return counts


def last_events(kmf: KaplanMeierFitter, curve: Curve) -> list[float]:
    """For each drop of `curve`, the time of the last true event it stands for."""
    survival = kmf.survival_function_.iloc[:, 0]
    return [float(survival.index[survival.to_numpy() == value][0]) for value in block_ends(curve)["survival"]]


def block_ends(curve: Curve) -> pd.DataFrame:
    """The points where a block of events ends: where the curve is lower than at the point before."""
    points = curve.points
    return points[points["survival"].diff() < 0]


def assert_released_properly(kmf: KaplanMeierFitter, curve: Curve, threshold: int) -> None:
    points = curve.points
    durations = np.asarray(kmf.durations, dtype=float)
    events = int(np.sum(kmf.event_observed))
    drops = blocks(kmf, curve)

    assert not curve.exact
    assert tuple(points.iloc[0]) == (0.0, 1.0, 1.0, 1.0)
    ends = block_ends(curve)
    assert ends["survival"].nunique() == len(ends) == len(drops) >= 1
    assert all(drop >= threshold for drop in drops), drops
    assert sum(drops) == events  # the last events are drawn too, with the block before them
    assert len(drops) <= events // threshold
    assert (np.diff(points["survival"]) <= 0).all()
    assert set(points["survival"].iloc[1:]) <= set(kmf.survival_function_.iloc[:, 0])

    times = points["time"].iloc[1:].to_numpy()
    assert (times > 0).all() and (np.diff(points["time"]) >= 0).all()
    assert np.allclose(times / GRID_DAYS, np.round(times / GRID_DAYS), rtol=0, atol=1e-6)
    steps = ends["time"].to_numpy()
    for step, event in zip(steps, last_events(kmf, curve), strict=True):
        assert event <= step + 1e-9 and (step - GRID_DAYS < event or step == pytest.approx(GRID_DAYS)), (step, event)

    last_step = float(steps[-1])
    assert curve.end >= last_step
    if curve.end != last_step:
        assert abs(curve.end / GRID_DAYS - round(curve.end / GRID_DAYS)) < 1e-6
        assert (durations >= curve.end).sum() >= threshold
        assert (durations >= curve.end + GRID_DAYS).sum() < threshold  # the last such grid time

    values = points["survival"].to_numpy()
    below = np.flatnonzero(values <= 0.5)
    if not len(below):
        assert curve.median[0] == math.inf
    else:  # along the line into the first point at or below one half
        i = int(below[0])
        t0, t1, s0, s1 = points["time"].iloc[i - 1], points["time"].iloc[i], values[i - 1], values[i]
        crossing = t1 if t1 == t0 else t0 + (s0 - 0.5) / (s0 - s1) * (t1 - t0)
        assert curve.median[0] == pytest.approx(crossing if crossing <= curve.end else math.inf)


def test_no_curve_is_drawn_for_fewer_children_than_the_threshold() -> None:
    assert released_curve(fit([10, 20, 30, 40], [1, 1, 1, 1]), 5) is None
    assert released_curve(fit([10, 20, 30, 40, 50], [1, 1, 1, 1, 1]), 5) is not None


def test_no_curve_is_drawn_for_fewer_events_than_the_threshold() -> None:
    durations = np.arange(1, 51) * 30.0

    assert released_curve(fit(durations, np.arange(50) < 4), 5) is None
    assert released_curve(fit(durations, np.arange(50) < 5), 5) is not None
    assert released_curve(fit(durations, np.zeros(50)), 5) is None


def test_every_drop_stands_for_a_block_of_at_least_threshold_true_events() -> None:
    kmf = cohort(seed=1)
    curve = released_curve(kmf, 5)
    assert curve is not None

    drops = blocks(kmf, curve)

    assert len(drops) >= 5  # enough drops for the check to mean something
    assert all(drop >= 5 for drop in drops)
    assert sum(drops) == kmf.event_table["observed"].sum()
    # The same count on the exact curve finds its single deaths, so it does look at the events.
    assert 1 in blocks(kmf, exact_curve(kmf))


def test_drops_are_drawn_on_the_quarterly_grid_at_or_after_their_last_event() -> None:
    kmf = cohort(seed=2)
    curve = released_curve(kmf, 5)
    assert curve is not None
    steps = curve.points["time"].iloc[1:].to_numpy()

    assert tuple(curve.points.iloc[0]) == (0.0, 1.0, 1.0, 1.0)
    assert (steps > 0).all()
    assert np.abs(steps / GRID_DAYS - np.round(steps / GRID_DAYS)).max() < 1e-6
    for step, event in zip(steps, last_events(kmf, curve), strict=True):
        assert step - GRID_DAYS < event <= step


def test_the_values_drawn_are_values_of_the_kaplan_meier_estimate_and_never_rise() -> None:
    kmf = cohort(seed=3)
    curve = released_curve(kmf, 5)
    assert curve is not None
    survival = curve.points["survival"]

    assert set(survival.iloc[1:]) <= set(kmf.survival_function_.iloc[:, 0])
    assert survival.is_monotonic_decreasing
    assert survival.iloc[-1] == kmf.survival_function_.iloc[:, 0].min()
    for column in ("lower", "upper"):
        band = kmf.confidence_interval_survival_function_.iloc[:, 0 if column == "lower" else 1]
        assert set(curve.points[column].iloc[1:]) <= set(band)


def test_the_curve_ends_at_the_last_grid_time_with_threshold_children_at_risk() -> None:
    # Long follow-up, early deaths: the last drop comes well before the children at risk run out.
    durations = np.concatenate([np.arange(1, 21) * 20.0, np.arange(1, 21) * 100.0 + 400])
    events = np.concatenate([np.ones(20), np.zeros(20)])
    kmf = fit(durations, events)
    curve = released_curve(kmf, 5)
    assert curve is not None

    assert curve.end > curve.points["time"].iloc[-1]
    assert abs(curve.end / GRID_DAYS - round(curve.end / GRID_DAYS)) < 1e-6
    assert (durations >= curve.end).sum() >= 5
    assert (durations >= curve.end + GRID_DAYS).sum() < 5
    assert math.isnan(curve.at(curve.end + 1)[0])
    assert not math.isnan(curve.at(curve.end)[0])


def test_a_curve_whose_last_drop_comes_after_the_children_at_risk_run_out_ends_at_that_drop() -> None:
    durations = np.arange(1, 31) * 40.0
    kmf = fit(durations, np.ones(30))  # everyone dies, the last five alone at risk at the end
    curve = released_curve(kmf, 5)
    assert curve is not None

    assert curve.end == curve.points["time"].iloc[-1]
    assert curve.points["survival"].iloc[-1] == 0.0
    assert math.isnan(curve.at(curve.end + 0.5)[0])


def test_the_median_and_the_survival_at_a_time_are_read_from_the_released_curve() -> None:
    kmf = cohort(seed=4, scale=500)
    curve = released_curve(kmf, 5)
    assert curve is not None
    times = curve.points["time"].to_numpy()
    survival = curve.points["survival"].to_numpy()
    crossing = int(np.flatnonzero(survival <= 0.5)[0])  # this cohort's curve crosses one half
    before, after = crossing - 1, crossing
    # along the line between the two points either side of one half
    expected = times[before] + (survival[before] - 0.5) / (survival[before] - survival[after]) * (
        times[after] - times[before]
    )
    assert curve.median[0] == pytest.approx(expected)
    assert times[before] <= curve.median[0] <= times[after]
    assert curve.median[0] != kmf.median_survival_time_
    assert curve.median[1] <= curve.median[0] <= curve.median[2]
    assert curve.at(curve.median[0])[0] == pytest.approx(0.5)
    for i in range(len(times) - 1):  # halfway along each segment, halfway between its ends
        if times[i + 1] > times[i] and (times[i] + times[i + 1]) / 2 <= curve.end:
            middle = curve.at((times[i] + times[i + 1]) / 2)[0]
            assert middle == pytest.approx((survival[i] + survival[i + 1]) / 2)
    assert math.isnan(curve.at(curve.end + 1)[0])
    assert math.isnan(curve.at(-1)[0])


def test_a_median_not_reached_on_the_released_curve_is_infinite() -> None:
    durations = np.concatenate([np.arange(1, 11) * 50.0, np.full(30, 2_000.0)])
    kmf = fit(durations, np.arange(40) < 10)  # a quarter die early, the rest are seen for years
    curve = released_curve(kmf, 5)
    assert curve is not None

    assert curve.points["survival"].min() > 0.5
    assert curve.median[0] == math.inf


@pytest.mark.parametrize(("deaths", "drops"), [(3, 0), (4, 0), (6, 1), (9, 1)])
def test_the_number_of_drops_does_not_count_the_deaths(deaths: int, drops: int) -> None:
    # One death a quarter apart, so no two blocks could share a grid time; the others seen for years.
    durations = np.where(np.arange(30) < deaths, 30.0 + np.arange(30) * 100.0, 3_000.0)
    kmf = fit(durations, np.arange(30) < deaths)

    curve = released_curve(kmf, 5)

    if drops == 0:
        assert curve is None
    else:
        assert curve is not None
        assert len(curve.points) - 1 == drops == deaths // 5
        assert curve.points["time"].iloc[1] == pytest.approx(math.ceil(durations[deaths - 1] / GRID_DAYS) * GRID_DAYS)


def test_the_height_of_a_drop_does_not_give_away_the_number_of_deaths_and_children() -> None:
    # With no censoring before a drop, an exact height is deaths / children: knowing the size of the
    # group only as released (within MAX_CHANGE of the truth), an attacker would find the one size
    # that makes the deaths a whole number. Made from released counts, the height gives back the
    # released numbers, and the true ones only when neither count happened to be changed.
    children, deaths = 30, 6
    durations = np.where(np.arange(children) < deaths, 30.0 + np.arange(children) * 20.0, 3_000.0)
    kmf = fit(durations, np.arange(children) < deaths)
    exact = released_curve(kmf, 5)
    assert exact is not None and abs(1 - exact.points["survival"].iloc[1] - deaths / children) < 1e-12
    recovered = 0
    trials = 400
    table = perturbation_table(5)
    for trial in range(trials):
        secret = f"secret {trial}".encode()

        def count(ids: Collection[int], secret: bytes = secret) -> int:
            return table.released(len(set(ids)), cell_key(secret, ids))

        curve = released_curve(kmf, 5, ids=list(range(children)), count=count)
        assert curve is not None
        drop = 1 - curve.points["survival"].iloc[1]
        size = count(range(children))  # the group's size, as released beside the curve
        recovered += abs(drop * size - deaths) < 1e-9 and size == children
    # both counts unchanged: P(change of 30 is 0) * P(change of 6 is 0) = 0.383 * 0.306
    assert recovered / trials < 0.2


def test_the_exact_curve_is_lifelines_own() -> None:
    kmf = cohort(seed=6)

    curve = exact_curve(kmf)

    assert curve.exact
    assert curve.points["time"].tolist() == kmf.survival_function_.index.tolist()
    assert curve.points["survival"].tolist() == kmf.survival_function_.iloc[:, 0].tolist()
    assert curve.points["lower"].tolist() == kmf.confidence_interval_survival_function_.iloc[:, 0].tolist()
    assert curve.points["upper"].tolist() == kmf.confidence_interval_survival_function_.iloc[:, 1].tolist()
    assert curve.median[0] == kmf.median_survival_time_
    assert curve.end == max(kmf.durations)
    assert curve.at(kmf.median_survival_time_)[0] <= 0.5


def random_registry(rng: np.random.Generator, threshold: int) -> tuple[np.ndarray, np.ndarray]:
    """A group as the registry may hold it: often small, with ties, deaths on the day of diagnosis,
    and everyone censored after a cut-off."""
    n = int(rng.integers(0, 150))
    death = rng.exponential(rng.uniform(100, 5_000), n)
    last_seen = rng.uniform(0, rng.uniform(200, 4_000), n)
    if rng.random() < 0.5:  # dates known to the month only
        death, last_seen = np.round(death / 30) * 30, np.round(last_seen / 30) * 30
    else:
        death, last_seen = np.ceil(death), np.ceil(last_seen)
    if rng.random() < 0.3:
        death[rng.random(n) < 0.1] = 0.0
    events = death <= last_seen
    durations = np.minimum(death, last_seen)
    if rng.random() < 0.3:  # the registry's cut-off: no one followed beyond it
        cutoff = rng.uniform(100, 2_000)
        events &= durations <= cutoff
        durations = np.minimum(durations, cutoff)
    if rng.random() < 0.1:  # a handful of events, near the threshold
        events &= np.cumsum(events) <= threshold + int(rng.integers(-1, 3))
    return durations, events


def test_two_hundred_random_groups_are_released_with_every_drop_behind_a_block_of_events() -> None:
    rng = np.random.default_rng(2_026)
    drawn = 0
    for _ in range(200):
        threshold = int(rng.choice([3, 5, 10]))
        durations, events = random_registry(rng, threshold)
        if len(durations) == 0:
            continue
        kmf = fit(durations, events)

        curve = released_curve(kmf, threshold)

        if len(durations) < threshold or events.sum() < threshold:
            assert curve is None
            continue
        assert curve is not None
        assert_released_properly(kmf, curve, threshold)
        drawn += 1
    assert drawn >= 100
