import io

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2

from partner.analysis.incidence import Incidence
from partner.analysis.population import read_eurostat


def bands_population(per_band, years=(2020,), country="IT", sex="T"):
    """Five-year bands 0-4 … 15-19 with the given population in each, every year."""
    return pd.DataFrame(
        [
            {"country": country, "year": year, "sex": sex, "age": age, "age_width": 5, "population": float(size)}
            for year in years
            for age, size in zip((0, 5, 10, 15), per_band, strict=True)
        ]
    )


def cases_aged(ages, year=2020, country="IT", **columns):
    """One case per age, diagnosed on 1 July of ``year``, born on 1 January so the age is exact."""
    ages = np.asarray(ages)
    return pd.DataFrame(
        {
            "country": country,
            "diagnosis_date": pd.to_datetime([f"{year}-07-01"] * len(ages)),
            "date_of_birth": pd.to_datetime([f"{year - age}-01-01" for age in ages]),
            **columns,
        }
    )


def test_the_crude_rate_is_cases_per_million_person_years_with_the_exact_poisson_interval():
    population = bands_population([250_000] * 4, years=(2020, 2021))
    cases = pd.concat([cases_aged([1, 3, 6, 8, 12], year=2020), cases_aged([2, 7, 11, 15, 18], year=2021)])

    crude = Incidence().fit(cases, population, period=(2020, 2021)).crude_.iloc[0]

    assert (crude.country, crude.cases, crude.person_years) == ("IT", 10, 2_000_000)
    assert crude.rate == pytest.approx(5.0)
    # Exact 95% limits for an observed count of 10 are 4.7954 and 18.3904; per 2 million person-years:
    assert crude.lower == pytest.approx(chi2.ppf(0.025, 20) / 2 / 2, rel=1e-9)
    assert (crude.lower, crude.upper) == (pytest.approx(4.7954 / 2, abs=1e-4), pytest.approx(18.3904 / 2, abs=1e-4))


def test_no_case_gives_a_zero_rate_with_an_upper_limit():
    crude = Incidence().fit(cases_aged([]), bands_population([250_000] * 4), period=(2020, 2020)).crude_.iloc[0]
    assert (crude.cases, crude.rate, crude.lower) == (0, 0.0, 0.0)
    assert crude.upper == pytest.approx(3.6889 / 1_000_000 * 1_000_000, abs=1e-4)


@pytest.mark.parametrize(
    "standard, expected",
    [
        ("world_segi", (12_000 * 1 + 10_000 * 2 + 9_000 * 3 + 9_000 * 4) / 40_000),
        ("esp2013", (5_000 * 1 + 5_500 * 2 + 5_500 * 3 + 5_500 * 4) / 21_500),
    ],
)
def test_the_age_standardised_rate_weights_the_age_specific_rates_by_the_standard(standard, expected):
    # 1, 2, 3 and 4 cases per million in the bands 0-4, 5-9, 10-14 and 15-19.
    cases = cases_aged([2] + [7] * 2 + [12] * 3 + [17] * 4)
    incidence = Incidence(standard=standard).fit(cases, bands_population([1_000_000] * 4), period=(2020, 2020))

    assert incidence.asr_.asr.iloc[0] == pytest.approx(expected)
    assert incidence.crude_.rate.iloc[0] == pytest.approx(2.5)
    assert incidence.by_age_.rate.tolist() == pytest.approx([1, 2, 3, 4])
    assert incidence.by_age_.age_band.tolist() == ["0-4", "5-9", "10-14", "15-19"]
    assert incidence.by_age_.weight.sum() == pytest.approx(1)
    asr = incidence.asr_.iloc[0]
    assert asr.lower < asr.asr < asr.upper


def test_with_the_study_population_as_standard_the_asr_interval_is_the_exact_crude_interval():
    population = bands_population([300_000, 500_000, 700_000, 900_000])
    standard = population[["age", "age_width"]].assign(weight=population.population)
    cases = cases_aged([1, 2, 6, 9, 9, 11, 14, 16, 16, 17, 19])

    incidence = Incidence(standard=standard).fit(cases, population, period=(2020, 2020))

    crude, asr = incidence.crude_.iloc[0], incidence.asr_.iloc[0]
    assert asr.asr == pytest.approx(crude.rate)
    assert (asr.lower, asr.upper) == (pytest.approx(crude.lower), pytest.approx(crude.upper))


def test_the_age_at_diagnosis_is_in_completed_years():
    cases = pd.DataFrame(
        {
            "country": "IT",
            "date_of_birth": pd.to_datetime(["2015-06-15", "2015-06-15", "2000-06-15"]),
            "diagnosis_date": pd.to_datetime(["2020-06-14", "2020-06-15", "2020-06-14"]),
        }
    )
    by_age = Incidence().fit(cases, bands_population([1_000_000] * 4), period=(2020, 2020)).by_age_
    assert by_age.cases.tolist() == [1, 1, 0, 1]


def test_cases_outside_the_period_or_older_than_the_last_band_are_not_counted():
    cases = pd.concat([cases_aged([3]), cases_aged([3], year=2019), cases_aged([20]), cases_aged([25])])
    crude = Incidence().fit(cases, bands_population([1_000_000] * 4), period=(2020, 2020)).crude_
    assert crude.cases.tolist() == [1]


def test_rates_are_given_per_group_and_by_sex_from_the_female_and_male_populations():
    population = pd.concat(
        [
            bands_population([1_000_000] * 4, country=country, sex=sex)
            for country in ("IT", "FR")
            for sex in ("F", "M", "T")
        ]
    )
    cases = pd.concat([cases_aged([4, 5], sex="F"), cases_aged([6], country="FR", sex="M")])

    by_sex = Incidence().fit(cases, population, by=("country", "sex"), period=(2020, 2020)).crude_
    assert by_sex[["country", "sex", "cases", "person_years"]].values.tolist() == [
        ["FR", "F", 0, 4_000_000],
        ["FR", "M", 1, 4_000_000],
        ["IT", "F", 2, 4_000_000],
        ["IT", "M", 0, 4_000_000],
    ]
    overall = Incidence().fit(cases, population, by=(), period=(2020, 2020))
    assert overall.crude_[["cases", "person_years"]].values.tolist() == [[3, 8_000_000]]
    assert list(overall.asr_.columns) == ["asr", "lower", "upper"]


def test_it_uses_single_year_populations_as_read_from_eurostat():
    years = "\t".join(["2022 ", "2023 "])
    lines = [f"freq,unit,age,sex,geo\\TIME_PERIOD\t{years}"]
    lines += [f"A,NR,{'Y_LT1' if age == 0 else f'Y{age}'},T,IT\t100000 \t100000 p" for age in range(20)]
    lines += ["A,NR,Y20,T,IT\t100000 \t100000 ", "A,NR,TOTAL,T,IT\t59000000 \t58900000 "]
    population = read_eurostat(io.StringIO("\n".join(lines) + "\n"))

    incidence = Incidence().fit(cases_aged([0, 4, 19], year=2023), population, period=(2022, 2023))

    assert incidence.crude_.person_years.tolist() == [4_000_000]
    assert incidence.by_age_.person_years.tolist() == [1_000_000] * 4
    assert incidence.crude_.rate.tolist() == pytest.approx([0.75])


def test_it_refuses_a_period_without_population():
    with pytest.raises(ValueError, match="no population for"):
        Incidence().fit(cases_aged([3]), bands_population([1_000_000] * 4), period=(2020, 2021))


def test_it_refuses_cases_from_a_country_without_population():
    with pytest.raises(ValueError, match="cases without a population"):
        Incidence().fit(cases_aged([3], country="FR"), bands_population([1_000_000] * 4), period=(2020, 2020))


def test_it_refuses_age_bands_the_standard_cannot_weight():
    with pytest.raises(ValueError, match="do not make up the age band 0-2"):
        Incidence(age_bands=(0, 3, 20)).fit(cases_aged([3]), bands_population([1e6] * 4), period=(2020, 2020))


def test_it_refuses_population_bands_wider_than_the_age_bands():
    with pytest.raises(ValueError, match="straddles"):
        Incidence(age_bands=(0, 1, 5, 10, 15, 20), standard="esp2013").fit(
            cases_aged([3]), bands_population([1e6] * 4), period=(2020, 2020)
        )


def test_it_refuses_undated_cases():
    cases = cases_aged([3])
    cases.loc[0, "date_of_birth"] = pd.NaT
    with pytest.raises(ValueError, match="lack a diagnosis date"):
        Incidence().fit(cases, bands_population([1e6] * 4), period=(2020, 2020))
