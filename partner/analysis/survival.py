"""Kaplan-Meier survival, the log-rank test, median follow-up and Cox regression, all by lifelines.

Durations are in days (as `survival_table` gives them); a year is 365.25 days.
"""

from collections.abc import Hashable, Iterable, Sequence
from typing import Any, Literal, Self

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import StatisticalResult, multivariate_logrank_test, proportional_hazard_test
from lifelines.utils import median_survival_times

from .cohort import DAYS_PER_YEAR

ALL = "all"


def _groups(table: pd.DataFrame, by: str | None) -> dict[Hashable, pd.DataFrame]:
    if by is None:
        return {ALL: table}
    present = table[table[by].notna()]
    return {level: rows for level, rows in present.groupby(by, sort=True, observed=True)}


def _median_row(group: Hashable, kmf: KaplanMeierFitter) -> dict[str, Any]:
    lower, upper = median_survival_times(kmf.confidence_interval_).iloc[0]
    return {"group": group, "median": kmf.median_survival_time_, "lower": lower, "upper": upper}


class SurvivalAnalysis:
    """Kaplan-Meier estimates of survival, overall or by group.

    Parameters
    ----------
    alpha: one minus the confidence level of the intervals (0.05 gives 95% intervals). The
        intervals are lifelines' exponential Greenwood ("log-log") ones.
    years: the times, in years, at which survival is reported in `at_`.

    Attributes (after `fit`)
    ------------------------
    km_: group -> the fitted lifelines KaplanMeierFitter.
    median_: per group n, events, median survival in days and its confidence interval
        (inf where survival has not fallen to one half).
    at_: per group and year, survival with its confidence interval; NaN beyond the group's
        longest follow-up, where the estimate says nothing.
    at_risk_: numbers still at risk at 0, 1, 2, ... years, one row per group.
    logrank_: lifelines' multivariate log-rank test result (test_statistic, p_value,
        degrees_of_freedom) when there are two groups or more, else None.
    followup_median_: median follow-up per group by the reverse Kaplan-Meier method (censoring
        taken as the event and deaths as censored), with its confidence interval.

    Examples
    --------
    >>> from lifelines.datasets import load_lung
    >>> lung = load_lung()
    >>> analysis = SurvivalAnalysis().fit(lung, by="sex", duration_col="time", event_col="status")
    >>> analysis.median_["median"].tolist()
    [270.0, 426.0]
    >>> round(float(analysis.logrank_.test_statistic), 1)
    10.3
    """

    def __init__(self, alpha: float = 0.05, years: Sequence[int] = (3, 5)) -> None:
        self.alpha = alpha
        self.years = years

    def fit(
        self,
        table: pd.DataFrame,
        by: str | None = None,
        *,
        duration_col: str = "duration",
        event_col: str = "event",
    ) -> Self:
        """Fit one Kaplan-Meier estimate per level of `by` (rows where it is missing are left
        out), or one for the whole table. Returns self."""
        groups = _groups(table, by)
        self.km_: dict[Hashable, KaplanMeierFitter] = {}
        medians, at, at_risk, followup = [], [], {}, []
        last_year = max(self.years, default=0)
        for group, rows in groups.items():
            durations, events = rows[duration_col], rows[event_col].astype(int)
            kmf = KaplanMeierFitter(alpha=self.alpha, label=str(group)).fit(durations, events)
            self.km_[group] = kmf
            medians.append({"n": len(rows), "events": int(events.sum()), **_median_row(group, kmf)})
            at.extend(self._at(group, kmf, durations.max()))
            at_risk[group] = {y: int((durations >= y * DAYS_PER_YEAR).sum()) for y in range(last_year + 1)}
            reverse = KaplanMeierFitter(alpha=self.alpha, label=str(group)).fit(durations, 1 - events)
            followup.append(_median_row(group, reverse))
        order = ["group", "n", "events", "median", "lower", "upper"]
        self.median_ = pd.DataFrame(medians, columns=order)
        self.at_ = pd.DataFrame(at, columns=["group", "years", "days", "survival", "lower", "upper"])
        self.at_risk_ = pd.DataFrame.from_dict(at_risk, orient="index").rename_axis("group")
        self.followup_median_ = pd.DataFrame(followup, columns=["group", "median", "lower", "upper"])
        self.logrank_: StatisticalResult | None = None
        if by is not None and len(groups) >= 2:
            present = table[table[by].notna()]
            self.logrank_ = multivariate_logrank_test(present[duration_col], present[by], present[event_col])
        return self

    def _at(self, group: Hashable, kmf: KaplanMeierFitter, longest: float) -> list[dict[str, Any]]:
        rows = []
        for year in self.years:
            days = year * DAYS_PER_YEAR
            if days > longest:
                survival = lower = upper = np.nan
            else:
                survival = float(kmf.survival_function_.loc[:days].iloc[-1, 0])
                lower, upper = kmf.confidence_interval_survival_function_.loc[:days].iloc[-1]
            rows.append(
                {"group": group, "years": year, "days": days, "survival": survival, "lower": lower, "upper": upper}
            )
        return rows


class CoxModel:
    """Cox proportional hazards regression with the check of proportional hazards.

    Parameters
    ----------
    alpha: one minus the confidence level of the hazard-ratio intervals.
    ph_transform: the transform of time in the Grambsch-Therneau test of proportional hazards:
        "rank" (lifelines' default), "km", "identity" or "log". lifelines' "km" takes the
        Kaplan-Meier estimate just after each death where R's cox.zph takes the one just before,
        so it does not reproduce R's default; "rank" does reproduce R's "rank". lifelines uses
        the approximate test R used before survival 3.0, so current R prints slightly different
        statistics.

    Attributes (after `fit`)
    ------------------------
    cph_: the fitted lifelines CoxPHFitter.
    summary_: per covariate coef, se, hazard_ratio with its interval (lower, upper), z and p.
    ph_check_: per covariate the test statistic (chi-squared, 1 df) and p-value of lifelines'
        proportional_hazard_test; a small p suggests the hazard ratio changes over time.
    n_, events_: the rows and events used; n_dropped_: rows left out for a missing value.

    Examples
    --------
    >>> from lifelines.datasets import load_lung
    >>> model = CoxModel().fit(load_lung(), ["age", "sex"], duration_col="time", event_col="status")
    >>> model.summary_["coef"].round(4).tolist()
    [0.017, -0.5132]
    >>> bool(model.ph_check_.loc["sex", "p"] > 0.05)
    True
    """

    def __init__(self, alpha: float = 0.05, ph_transform: Literal["rank", "km", "identity", "log"] = "rank") -> None:
        self.alpha = alpha
        self.ph_transform = ph_transform

    def fit(
        self,
        table: pd.DataFrame,
        covariates: Sequence[str],
        strata: str | Iterable[str] | None = None,
        *,
        duration_col: str = "duration",
        event_col: str = "event",
    ) -> Self:
        """Fit the model on the rows with no missing value. Text and categorical covariates
        are coded as indicators against their first level. Returns self."""
        strata_cols = [strata] if isinstance(strata, str) else list(strata or [])
        data = table[[duration_col, event_col, *covariates, *strata_cols]].dropna()
        design = pd.get_dummies(data[list(covariates)], drop_first=True).astype(float)
        frame = pd.concat([data[[duration_col, event_col, *strata_cols]], design], axis=1)
        frame[event_col] = frame[event_col].astype(int)
        self.cph_ = CoxPHFitter(alpha=self.alpha).fit(frame, duration_col, event_col, strata=strata_cols or None)
        self.n_, self.events_, self.n_dropped_ = len(frame), int(frame[event_col].sum()), len(table) - len(frame)

        summary = self.cph_.summary
        lower = next(c for c in summary if c.startswith("exp(coef) lower"))
        upper = next(c for c in summary if c.startswith("exp(coef) upper"))
        self.summary_ = summary[["coef", "se(coef)", "exp(coef)", lower, upper, "z", "p"]].set_axis(
            ["coef", "se", "hazard_ratio", "lower", "upper", "z", "p"], axis=1
        )
        check = proportional_hazard_test(self.cph_, frame, time_transform=self.ph_transform).summary
        self.ph_check_ = check[["test_statistic", "p"]].rename(columns={"test_statistic": "statistic"})
        self.ph_check_ = self.ph_check_.reindex(self.summary_.index)
        return self
