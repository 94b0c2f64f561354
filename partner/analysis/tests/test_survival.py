"""Survival estimates checked against R's survival package on the data sets lifelines ships.

Reference values, all printed by R's survival package:
- NCCTG lung cancer data (`lung` in R, `load_lung` here; R codes death as status 2, lifelines'
  copy as 1): survfit, survdiff and coxph outputs as printed in R, e.g. in the survival package
  documentation and in E. Zabor's "Survival analysis in R" tutorial.
- Rossi recidivism data: coxph output printed in J. Fox and S. Weisberg, "Cox Proportional-Hazards
  Regression for Survival Data in R", appendix to An R Companion to Applied Regression (2011).
- cox.zph results that lifelines' own test suite records from R, with the R code that gave them.
"""

import doctest

import pandas as pd
import pytest
from lifelines.datasets import load_lung, load_regression_dataset, load_rossi

from partner.analysis import cohort, descriptive, survival
from partner.analysis.survival import CoxModel, SurvivalAnalysis

# lifelines was written for pandas < 3 and calls a few of its methods in ways pandas 3 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore::pandas.errors.Pandas4Warning")


@pytest.fixture(scope="module")
def lung() -> pd.DataFrame:
    return load_lung()


def fit_lung(lung: pd.DataFrame, **kwargs) -> SurvivalAnalysis:
    return SurvivalAnalysis(**{"years": (1,)} | kwargs).fit(lung, duration_col="time", event_col="status")


def test_lifelines_lung_codes_death_as_one_and_has_rs_165_deaths(lung):
    assert len(lung) == 228
    assert set(lung["status"]) == {0, 1}
    assert lung["status"].sum() == 165


def test_the_overall_median_is_rs_310_days(lung):
    # R: survfit(Surv(time, status) ~ 1, lung) -> n 228, events 165, median 310, 0.95LCL 285, 0.95UCL 363
    row = fit_lung(lung).median_.iloc[0]
    assert (row["n"], row["events"], row["median"]) == (228, 165, 310)


def test_the_median_confidence_interval_is_within_three_days_of_rs(lung):
    # R's default interval is on the log scale (conf.type = "log"); lifelines uses the exponential
    # Greenwood ("log-log") interval, which is a little wider at the bottom and narrower at the top
    # here (284-361 against R's 285-363). Both are valid intervals; the tolerance only guards
    # against a gross error such as a wrong alpha or a swapped event coding.
    row = fit_lung(lung).median_.iloc[0]
    assert row["lower"] == pytest.approx(285, abs=3)
    assert row["upper"] == pytest.approx(363, abs=3)


def test_one_year_survival_matches_rs_summary(lung):
    # R: summary(survfit(Surv(time, status) ~ 1, lung), times = 365.25)
    #    -> n.risk 65, n.event 121, survival 0.409, lower 0.345, upper 0.486 (log interval)
    analysis = fit_lung(lung)
    year = analysis.at_.iloc[0]
    assert year["survival"] == pytest.approx(0.409, abs=5e-4)
    assert analysis.at_risk_.loc["all", 1] == 65
    assert year["lower"] == pytest.approx(0.345, abs=0.01)  # log-log against log, as above
    assert year["upper"] == pytest.approx(0.486, abs=0.01)


def test_survival_is_not_reported_beyond_the_longest_follow_up(lung):
    at = SurvivalAnalysis(years=(2, 3)).fit(lung, duration_col="time", event_col="status").at_
    assert at["survival"].notna().tolist() == [True, False]  # the longest time is 1022 days


def test_medians_by_sex_match_rs(lung):
    # R: survfit(Surv(time, status) ~ sex, lung) -> sex=1: 138, 112, 270; sex=2: 90, 53, 426
    analysis = SurvivalAnalysis().fit(lung, by="sex", duration_col="time", event_col="status")
    medians = analysis.median_.set_index("group")
    assert medians.loc[1, ["n", "events", "median"]].tolist() == [138, 112, 270]
    assert medians.loc[2, ["n", "events", "median"]].tolist() == [90, 53, 426]
    assert set(analysis.km_) == {1, 2}


def test_the_log_rank_test_by_sex_matches_rs_survdiff(lung):
    # R: survdiff(Surv(time, status) ~ sex, lung) -> Chisq = 10.3 on 1 degrees of freedom, p = 0.001
    logrank = SurvivalAnalysis().fit(lung, by="sex", duration_col="time", event_col="status").logrank_
    assert round(logrank.test_statistic, 1) == 10.3
    assert logrank.degrees_of_freedom == 1
    assert round(logrank.p_value, 3) == 0.001


def test_there_is_no_log_rank_test_without_groups(lung):
    assert fit_lung(lung).logrank_ is None


def test_median_follow_up_swaps_events_and_censoring():
    # Reverse Kaplan-Meier by hand: censored at 2 (4 at risk) -> 0.75, censored at 4 (2 at risk)
    # -> 0.375, so the median follow-up is 4; the deaths at 1 and 3 only leave the risk set.
    table = pd.DataFrame({"duration": [1, 2, 3, 4, 5], "event": [1, 0, 1, 0, 0]})
    assert SurvivalAnalysis().fit(table).followup_median_.iloc[0]["median"] == 4


def test_cox_age_and_sex_matches_rs_coxph(lung):
    # R: coxph(Surv(time, status) ~ age + sex, lung)
    #          coef exp(coef)  se(coef)      z       p
    #   age  0.017045  1.017191  0.009223  1.848 0.06459
    #   sex -0.513219  0.598566  0.167458 -3.065 0.00218
    #   Likelihood ratio test=14.12 on 2 df; Concordance= 0.603
    model = CoxModel().fit(lung, ["age", "sex"], duration_col="time", event_col="status")
    summary = model.summary_
    assert summary.loc["age", "coef"] == pytest.approx(0.017045, abs=1e-5)
    assert summary.loc["sex", "coef"] == pytest.approx(-0.513219, abs=1e-5)
    assert summary.loc["age", "se"] == pytest.approx(0.009223, abs=1e-6)
    assert summary.loc["sex", "se"] == pytest.approx(0.167458, abs=1e-6)
    assert summary.loc["sex", "hazard_ratio"] == pytest.approx(0.598566, abs=1e-5)
    assert summary.loc["age", "p"] == pytest.approx(0.0646, abs=1e-4)
    assert summary.loc["sex", "p"] == pytest.approx(0.00218, abs=1e-5)
    assert model.cph_.log_likelihood_ratio_test().test_statistic == pytest.approx(14.12, abs=0.005)
    assert model.cph_.concordance_index_ == pytest.approx(0.603, abs=5e-4)
    assert (model.n_, model.events_, model.n_dropped_) == (228, 165, 0)


def test_cox_sex_alone_matches_rs_coxph(lung):
    # R: coxph(Surv(time, status) ~ sex, lung)
    #   sex -0.5310 0.5880 0.1672 -3.176 0.00149; Likelihood ratio test=10.63 on 1 df
    model = CoxModel().fit(lung, ["sex"], duration_col="time", event_col="status")
    row = model.summary_.loc["sex"]
    assert (round(row["coef"], 4), round(row["hazard_ratio"], 4), round(row["se"], 4)) == (-0.5310, 0.5880, 0.1672)
    assert row["p"] == pytest.approx(0.00149, abs=1e-5)
    assert model.cph_.log_likelihood_ratio_test().test_statistic == pytest.approx(10.63, abs=0.005)


def test_cox_on_rossi_matches_fox_and_weisberg():
    # R: coxph(Surv(week, arrest) ~ fin + age + race + wexp + mar + paro + prio, data = Rossi)
    rossi = load_rossi()
    covariates = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
    summary = CoxModel().fit(rossi, covariates, duration_col="week", event_col="arrest").summary_
    expected = {"fin": (-0.37942, 0.19138), "age": (-0.05744, 0.02200), "prio": (0.09150, 0.02865)}
    for name, (coef, se) in expected.items():
        assert summary.loc[name, "coef"] == pytest.approx(coef, abs=1e-5)
        assert summary.loc[name, "se"] == pytest.approx(se, abs=1e-5)


def test_the_proportional_hazards_check_matches_rs_cox_zph_with_rank_time():
    # R: cox.zph(coxph(Surv(T, E) ~ var1 + var2 + var3, df), transform = "rank"), as recorded in
    # lifelines' test suite for its bundled regression data set.
    data = load_regression_dataset()
    check = CoxModel(ph_transform="rank").fit(data, ["var1", "var2", "var3"], duration_col="T", event_col="E").ph_check_
    assert check.loc["var1", "statistic"] == pytest.approx(1.4938293, rel=1e-3)
    assert check.loc["var2", "statistic"] == pytest.approx(0.8792998, rel=1e-3)
    assert check.loc["var3", "statistic"] == pytest.approx(2.2686088, rel=1e-3)
    assert check.loc["var3", "p"] == pytest.approx(0.1320184, rel=1e-3)


def test_the_default_check_reproduces_rs_default_when_km_and_rank_times_agree():
    # R: cox.zph(coxph(Surv(T, E) ~ var1, df)) with its default transform = "km", on five rows
    # with one censored, as recorded in lifelines' test suite: chisq 1.013802. The censoring comes
    # after the third death, so R's Kaplan-Meier times (taken just before each death: 0, 0.2, 0.4,
    # 0.6) are a linear function of the ranks and the "rank" check must give R's value.
    data = pd.DataFrame(
        {
            "var1": [0.209325, 0.693919, 0.443804, 0.065636, 0.386294],
            "T": [5.269797, 6.601666, 7.335846, 11.684092, 12.678458],
            "E": [1, 1, 1, 0, 1],
        }
    )
    check = CoxModel().fit(data, ["var1"], duration_col="T", event_col="E").ph_check_
    assert check.loc["var1", "statistic"] == pytest.approx(1.013802, rel=1e-3)


def test_cox_drops_rows_with_a_missing_value_and_takes_strata(lung):
    model = CoxModel().fit(lung, ["age", "sex"], strata="ph.ecog", duration_col="time", event_col="status")
    assert model.n_dropped_ == 1  # one patient has no ECOG score
    assert list(model.summary_.index) == ["age", "sex"]
    assert list(model.ph_check_.index) == ["age", "sex"]


def test_text_covariates_are_coded_against_their_first_level(lung):
    coded = lung.assign(sex=lung["sex"].map({1: "male", 2: "female"}))
    summary = CoxModel().fit(coded, ["sex"], duration_col="time", event_col="status").summary_
    assert list(summary.index) == ["sex_male"]
    assert summary.loc["sex_male", "coef"] == pytest.approx(0.5310, abs=1e-4)


def test_the_docstring_examples_run():
    for module in (cohort, descriptive, survival):
        assert doctest.testmod(module).failed == 0
