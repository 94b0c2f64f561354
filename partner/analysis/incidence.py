"""Incidence per million, crude and age-standardised, from cases and population denominators.

Person-years are the populations on 1 January (as Eurostat publishes them, see ``population``)
summed over the years of the period. The crude rate's interval is the exact Poisson interval from
chi-square quantiles. The age-standardised rate is a direct standardisation: the age-specific
rates weighted by a standard population restricted to the ages 0-19 and renormalised to sum to 1,
so that paediatric rates are comparable whichever standard is chosen. Its interval is the gamma
interval of Fay and Feuer (Statistics in Medicine 1997;16:791-801), which keeps its coverage with
the few cases per age band of a very rare tumour, where the normal approximation does not.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise
from typing import cast

import numpy as np
import pandas as pd
from scipy.stats import chi2

# Weights per 100,000 for the ages 0-19. Segi's world standard (Doll, Payne and Waterhouse's
# version): 0-4 12,000, 5-9 10,000, 10-14 9,000, 15-19 9,000, as tabulated in the R package
# SocEpi's `st_pop` documentation (https://rdrr.io/cran/SocEpi/man/st_pop.html, column segi_18ag).
# European Standard Population 2013: 0 1,000, 1-4 4,000, 5-9 5,500, 10-14 5,500, 15-19 5,500, from
# Eurostat's "Revision of the European Standard Population", 2013 edition (KS-RA-13-028), Annex F,
# as given by PHEindicatormethods' `esp2013` (https://rdrr.io/cran/PHEindicatormethods/man/esp2013.html).
STANDARDS: dict[str, pd.DataFrame] = {
    "world_segi": pd.DataFrame({"age": [0, 5, 10, 15], "age_width": 5, "weight": [12_000, 10_000, 9_000, 9_000]}),
    "esp2013": pd.DataFrame(
        {"age": [0, 1, 5, 10, 15], "age_width": [1, 4, 5, 5, 5], "weight": [1_000, 4_000, 5_500, 5_500, 5_500]}
    ),
}


def poisson_interval(cases: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) interval for a Poisson count, from chi-square quantiles."""
    cases = np.asarray(cases, dtype=float)
    lower = np.where(cases > 0, chi2.ppf(alpha / 2, 2 * np.maximum(cases, 1)) / 2, 0.0)
    upper = chi2.ppf(1 - alpha / 2, 2 * cases + 2) / 2
    return lower, upper


def age_at(diagnosis: pd.Series, birth: pd.Series) -> pd.Series:
    """Age in completed years on the date of diagnosis."""
    diagnosis, birth = pd.to_datetime(diagnosis), pd.to_datetime(birth)
    before_birthday = (diagnosis.dt.month * 100 + diagnosis.dt.day) < (birth.dt.month * 100 + birth.dt.day)
    return diagnosis.dt.year - birth.dt.year - before_birthday.astype(int)


class Incidence:
    """Crude and age-standardised incidence rates with their confidence intervals.

    Parameters
    ----------
    per
        Rates are given per this many person-years (a million by default).
    standard
        ``"world_segi"``, ``"esp2013"`` or a DataFrame with columns ``age``, ``age_width`` and
        ``weight``; its bands must split evenly into ``age_bands``.
    age_bands
        Edges of the age bands: ``(0, 5, 10, 15, 20)`` is 0-4, 5-9, 10-14 and 15-19. Cases older
        than the last edge are not counted.
    alpha
        The intervals cover ``1 - alpha``.

    Attributes
    ----------
    by_age_
        Per group and age band: ``cases``, ``person_years``, ``rate``, ``lower``, ``upper`` and the
        standard's ``weight``.
    crude_
        Per group: ``cases``, ``person_years``, ``rate``, ``lower``, ``upper``.
    asr_
        Per group: ``asr``, ``lower``, ``upper``.

    Examples
    --------
    >>> cases = pd.DataFrame({
    ...     "country": ["IT", "IT"],
    ...     "date_of_birth": pd.to_datetime(["2010-03-01", "2016-07-15"]),
    ...     "diagnosis_date": pd.to_datetime(["2020-05-01", "2021-01-10"]),
    ... })
    >>> population = pd.DataFrame({
    ...     "country": "IT", "year": [2020] * 4 + [2021] * 4, "sex": "T",
    ...     "age": [0, 5, 10, 15] * 2, "age_width": 5, "population": 250_000.0,
    ... })
    >>> Incidence().fit(cases, population, period=(2020, 2021)).crude_.rate.tolist()
    [1.0]
    """

    def __init__(
        self,
        per: float = 1_000_000,
        standard: str | pd.DataFrame = "world_segi",
        age_bands: Sequence[int] = (0, 5, 10, 15, 20),
        alpha: float = 0.05,
    ):
        self.per = per
        self.standard = standard
        self.age_bands = tuple(age_bands)
        self.alpha = alpha

    def fit(
        self,
        cases: pd.DataFrame,
        population: pd.DataFrame,
        *,
        by: Sequence[str] = ("country",),
        period: tuple[int, int],
    ) -> Incidence:
        """Count the cases diagnosed in ``period`` and divide by the person-years.

        Parameters
        ----------
        cases
            One row per tumour with ``diagnosis_date``, ``date_of_birth`` and the ``by`` columns.
        population
            As returned by ``population.read_eurostat``: ``year``, ``sex``, ``age``, ``age_width``,
            ``population`` and the ``by`` columns. Without ``sex`` in ``by`` the ``T`` rows are used.
        by
            Columns of both frames to give rates for, e.g. ``("country",)``; ``()`` for one rate.
        period
            First and last year of diagnosis, both included.

        Returns
        -------
        Incidence
            Itself, with ``by_age_``, ``crude_`` and ``asr_`` set.
        """
        by = list(by) or ["_all"]
        if by == ["_all"]:
            cases, population = cases.assign(_all="all"), population.assign(_all="all")
        edges = np.asarray(self.age_bands)
        if len(edges) < 2 or (np.diff(edges) <= 0).any() or edges[0] < 0:
            raise ValueError(f"age_bands must be increasing ages, got {self.age_bands}")
        weights = dict(zip(edges[:-1], self._weights(edges), strict=True))
        first, last = period
        counts = self._count_cases(cases, by, first, last, edges)
        person_years = self._person_years(population, by, first, last, edges)
        unknown = counts.index.difference(person_years.index)
        if len(unknown):
            raise ValueError(f"cases without a population for {[*by, 'age_band']}: {list(unknown)[:5]}")
        table = person_years.to_frame("person_years")
        table.insert(0, "cases", counts.reindex(table.index, fill_value=0).astype(int))
        table["weight"] = table.index.get_level_values("age_band").map(weights)

        crude = _with_rates(table.groupby(level=by)[["cases", "person_years"]].sum(), self.per, self.alpha)
        results = [_labelled(_with_rates(table, self.per, self.alpha), edges), crude, self._standardise(table, by)]
        self.by_age_, self.crude_, self.asr_ = (
            result.reset_index().drop(columns="_all", errors="ignore") for result in results
        )
        return self

    def _count_cases(self, cases: pd.DataFrame, by: list[str], first: int, last: int, edges: np.ndarray) -> pd.Series:
        missing = [column for column in ["diagnosis_date", "date_of_birth", *by] if column not in cases]
        if missing:
            raise ValueError(f"cases have no column {', '.join(missing)}")
        undated = cases.diagnosis_date.isna() | cases.date_of_birth.isna()
        if undated.any():
            raise ValueError(f"{int(undated.sum())} cases lack a diagnosis date or a date of birth")
        age = age_at(cases.diagnosis_date, cases.date_of_birth)
        if (age < 0).any():
            raise ValueError(f"{int((age < 0).sum())} cases are diagnosed before birth")
        year = pd.to_datetime(cases.diagnosis_date).dt.year
        counted = year.between(first, last) & (age >= edges[0]) & (age < edges[-1])
        band = pd.Series(edges[np.searchsorted(edges, age[counted], side="right") - 1], index=age[counted].index)
        return cases[counted].assign(age_band=band).groupby([*by, "age_band"]).size()

    def _person_years(
        self, population: pd.DataFrame, by: list[str], first: int, last: int, edges: np.ndarray
    ) -> pd.Series:
        population = population[population.year.between(first, last)]
        if "sex" in population and "sex" not in by:
            population = population[population.sex == "T"]
        elif "sex" in by:
            population = population[population.sex != "T"]
        start, end = population.age, population.age + population.age_width
        population = population[(start >= edges[0]) & (end <= edges[-1])]
        band = edges[np.searchsorted(edges, population.age, side="right") - 1]
        straddles = population.age + population.age_width > edges[np.searchsorted(edges, band, side="right")]
        if straddles.any():
            row = population[straddles].iloc[0]
            raise ValueError(f"population age {row.age} (width {row.age_width}) straddles the bands {self.age_bands}")
        population = population.assign(age_band=band)
        grouped = population.groupby([*by, "year", "age_band"]).population.sum().unstack(["year", "age_band"])
        complete = pd.MultiIndex.from_product([range(first, last + 1), edges[:-1]], names=["year", "age_band"])
        grouped = grouped.reindex(columns=complete)
        gaps = grouped.isna() | (grouped <= 0)
        if grouped.empty or gaps.any(axis=None):
            where = (
                "anywhere" if grouped.empty else gaps.stack(["year", "age_band"])[lambda gap: gap].index[:3].tolist()
            )
            raise ValueError(f"no population for {[*by, 'year', 'age_band']}: {where}")
        return cast(pd.Series, grouped.T.groupby(level="age_band").sum().T.stack())

    def _weights(self, edges: np.ndarray) -> np.ndarray:
        standard = STANDARDS[self.standard] if isinstance(self.standard, str) else self.standard
        start = standard.age.to_numpy()
        end = start + standard.age_width.to_numpy()
        weights = []
        for low, high in pairwise(edges):
            covered = (start >= low) & (end <= high)
            if (end[covered] - start[covered]).sum() != high - low or ((start < high) & (end > low) & ~covered).any():
                raise ValueError(f"the standard population's bands do not make up the age band {low}-{high - 1}")
            weights.append(standard.weight.to_numpy()[covered].sum())
        weights_array = np.asarray(weights, dtype=float)
        return weights_array / weights_array.sum()

    def _standardise(self, table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
        per_year = table.weight / table.person_years
        parts = pd.DataFrame(
            {
                "asr": per_year * table.cases,
                "variance": per_year**2 * table.cases,
                "largest": per_year,
            }
        ).groupby(level=by)
        summed = parts[["asr", "variance"]].sum()
        largest = parts.largest.max()
        asr, variance = summed.asr.to_numpy(), summed.variance.to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            lower = np.where(asr > 0, variance / (2 * asr) * chi2.ppf(self.alpha / 2, 2 * asr**2 / variance), 0.0)
        wide_variance = variance + largest.to_numpy() ** 2
        wide_asr = asr + largest.to_numpy()
        upper = wide_variance / (2 * wide_asr) * chi2.ppf(1 - self.alpha / 2, 2 * wide_asr**2 / wide_variance)
        return pd.DataFrame({"asr": asr, "lower": lower, "upper": upper}, index=summed.index) * self.per


def _with_rates(table: pd.DataFrame, per: float, alpha: float) -> pd.DataFrame:
    lower, upper = poisson_interval(table.cases.to_numpy(), alpha)
    return table.assign(
        rate=table.cases / table.person_years * per,
        lower=lower / table.person_years * per,
        upper=upper / table.person_years * per,
    )


def _labelled(by_age: pd.DataFrame, edges: np.ndarray) -> pd.DataFrame:
    labels = {low: f"{low}-{high - 1}" for low, high in pairwise(edges)}
    by_age = by_age.rename(index=labels, level="age_band")
    return by_age[[column for column in by_age if column != "weight"] + ["weight"]]
