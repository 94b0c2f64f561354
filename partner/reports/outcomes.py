"""How the children fare: Kaplan-Meier figures and tables, overall and by group, and the Cox model.

A curve is drawn only for a group of at least the threshold of children, whoever reads it: its
steps give away the small counts a table hides. Groups below it stay in the tables, as "<5" when
the report is suppressed.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Mapping
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _
from lifelines.exceptions import ConvergenceWarning
from matplotlib.figure import FigureBase
from matplotlib.ticker import PercentFormatter

from partner.analysis import CoxModel, SurvivalAnalysis
from partner.analysis.cohort import DAYS_PER_YEAR
from partner.analysis.survival import ALL
from partner.lib.figures import PALETTE, styled

from .sections import DASH, ReportTable, Section, counts_shown

YEARS = 5
#: The survival reported in the tables, in years from diagnosis.
REPORTED = (3, 5)
#: Fewer deaths than this per term and the Cox model is not fitted. Five rather than the older rule
#: of ten: Vittinghoff and McCulloch, Am J Epidemiol 2007;165:710-718, found 5 to 9 events per
#: variable acceptable in Cox regression, and very rare tumours seldom have ten per term.
EVENTS_PER_COVARIATE = 5


def _years(days: float) -> str:
    if pd.isna(days):
        return "—"
    return _("not reached") if np.isinf(days) else f"{days / DAYS_PER_YEAR:.1f}"


def _share(value: Any) -> str:
    return "—" if pd.isna(value) else f"{value:.0%}"


def _interval(value: Any, lower: Any, upper: Any, shown: Any = _share) -> str:
    return f"{shown(value)} ({shown(lower)}{DASH}{shown(upper)})"


def endpoint_words(endpoint: str) -> tuple[str, str]:
    """The endpoint's name and what ends it, for titles and columns."""
    if endpoint == "event_free":
        return _("Event-free survival"), _("Events")
    return _("Overall survival"), _("Deaths")


def overall_section(
    table: pd.DataFrame, name: str, threshold: int, suppressed: bool, *, endpoint: str = "overall", key: str = "os"
) -> Section:
    """One endpoint for the whole cohort: the curve with its numbers at risk, and its table."""
    title, events_word = endpoint_words(endpoint)
    section = Section(key, title)
    if len(table) < threshold:
        section.notes.append(_("No curve: fewer than %(n)s children with the dates it needs.") % {"n": threshold})
        return section
    analysis = SurvivalAnalysis(years=REPORTED).fit(table)
    at_risk_counts: Any = analysis.at_risk_.loc[ALL]
    at_risk = pd.DataFrame(
        [counts_shown(at_risk_counts, threshold, suppressed).to_numpy()],
        columns=[str(y) for y in at_risk_counts.index],
        index=[_("At risk")],
    )
    at_risk = at_risk.rename_axis(_("Years from diagnosis")).reset_index()
    row = analysis.median_.iloc[0]
    events = counts_shown(pd.Series([int(row["events"])]), threshold, suppressed).iloc[0]
    measures = [
        (_("Children"), str(int(row["n"]))),
        (events_word, events),
        (_("Median (years, 95% CI)"), _interval(row["median"], row["lower"], row["upper"], _years)),
    ]
    for at in analysis.at_.itertuples():
        measures.append(
            (_("%(years)s-year survival (95%% CI)") % {"years": at.years}, _interval(at.survival, at.lower, at.upper))
        )
    follow = analysis.followup_median_.iloc[0]
    measures.append(
        (_("Median follow-up (years, 95% CI)"), _interval(follow["median"], follow["lower"], follow["upper"], _years))
    )
    prefix = "" if key == "os" else f"{key}_"
    section.tables = [
        ReportTable(f"{prefix}at_risk", _("Numbers at risk"), at_risk),
        ReportTable(
            "survival" if key == "os" else key,
            title,
            pd.DataFrame(measures, columns=[_("Measure"), _("Value")]),
            _("“—”: beyond the longest follow-up. Follow-up by the reverse Kaplan-Meier method."),
        ),
    ]
    section.figure_title = _("%(endpoint)s, %(entity)s (95%% confidence band)") % {"endpoint": title, "entity": name}
    section.draw = partial(
        draw_km,
        analysis=analysis,
        table=table,
        labels={ALL: title.lower()},
        title=section.figure_title,
        at_risk={ALL: list(at_risk.iloc[0, 1:])},
    )
    section.figure_size = figure_size(1)
    section.caption = _(
        "Kaplan-Meier estimate from diagnosis with its confidence band (95%); ticks mark children censored. "
        "The numbers still at risk are under the time axis."
    )
    return section


def group_section(
    table: pd.DataFrame,
    by: str,
    labels: Mapping[Hashable, str],
    *,
    key: str,
    title: str,
    group_word: str,
    threshold: int,
    suppressed: bool,
    endpoint: str = "overall",
    note: str = "",
) -> Section:
    """One endpoint by group: a curve per group of at least `threshold` children, the log-rank test
    between them, and a table of every group."""
    endpoint_title, events_word = endpoint_words(endpoint)
    section = Section(key, title)
    if note:
        section.notes.append(note)
    present = table[table[by].notna()]
    sizes = present.groupby(by, observed=True, sort=True).size()
    sizes = sizes[sizes > 0]
    if sizes.empty:
        section.notes.append(_("No child with a known %(group)s.") % {"group": group_word})
        return section
    events = present.groupby(by, observed=True, sort=True)["event"].sum().reindex(sizes.index)
    children_shown = counts_shown(sizes, threshold, suppressed)
    # A curve starts at its group's size: a group hidden to protect a smaller one gets no curve either.
    drawn = [
        group
        for group, n in sizes.items()
        if n >= threshold and not str(children_shown.to_dict()[group]).startswith("<")
    ]
    analysis = SurvivalAnalysis(years=REPORTED).fit(present[present[by].isin(drawn)], by=by) if drawn else None

    rows = []
    events_shown = counts_shown(events.astype("int64"), threshold, suppressed)
    for group in sizes.index:
        values = [labels.get(group, str(group)), children_shown[group], events_shown[group]]
        if analysis is not None and group in analysis.km_:
            median = analysis.median_.set_index("group").loc[group]
            values.append(_interval(median["median"], median["lower"], median["upper"], _years))
            at = analysis.at_[analysis.at_["group"] == group].set_index("years")
            values.extend(_interval(*at.loc[y, ["survival", "lower", "upper"]]) for y in analysis.years)
        else:
            values.extend(["—"] * (1 + len(REPORTED)))
        rows.append(values)
    columns = [
        group_word[:1].upper() + group_word[1:],
        _("Children"),
        events_word,
        _("Median (years, 95% CI)"),
        *(_("%(years)s-year survival (95%% CI)") % {"years": y} for y in REPORTED),
    ]
    missing = len(table) - len(present)
    table_note = _("No estimate for a group of fewer than %(n)s children, or whose size is hidden.") % {"n": threshold}
    if missing:
        table_note += " " + _("%(n)s children with no known %(group)s are left out.") % {
            "n": counts_shown(pd.Series([missing]), threshold, suppressed).iloc[0],
            "group": group_word,
        }
    section.tables.append(ReportTable(key, title, pd.DataFrame(rows, columns=columns), table_note))
    if analysis is None:
        section.notes.append(_("No curve: no group of %(n)s children or more.") % {"n": threshold})
        return section
    if analysis.logrank_ is not None:
        test = analysis.logrank_
        section.notes.append(
            _("Log-rank test between the groups drawn: chi-squared %(chi2).1f on %(df)s degrees of freedom, p %(p)s.")
            % {
                "chi2": test.test_statistic,
                "df": test.degrees_of_freedom,
                "p": _p(test.p_value) if test.p_value < 0.001 else f"= {_p(test.p_value)}",
            }
        )
    at_risk: dict[Hashable, list[str]] = {
        group: list(counts_shown(analysis.at_risk_.loc[[group]].iloc[0], threshold, suppressed))
        for group in analysis.km_
    }
    section.figure_title = f"{endpoint_title}: {title}"
    section.draw = partial(
        draw_km,
        analysis=analysis,
        table=present,
        labels={g: labels.get(g, str(g)) for g in analysis.km_},
        title=section.figure_title,
        at_risk=at_risk,
        by=by,
    )
    section.figure_size = figure_size(len(analysis.km_))
    section.caption = _(
        "Kaplan-Meier estimates from diagnosis, one curve per group of at least %(n)s children; ticks mark "
        "children censored. The numbers still at risk in each group are under the time axis."
    ) % {"n": threshold}
    return section


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def figure_size(groups: int) -> tuple[float, float]:
    """Inches for a figure of that many curves: each adds a row of numbers at risk."""
    return 7.5, 5.0 + 0.25 * max(0, groups - 1)


def draw_km(
    into: FigureBase,
    *,
    analysis: SurvivalAnalysis,
    table: pd.DataFrame,
    labels: Mapping[Hashable, str],
    title: str,
    at_risk: Mapping[Hashable, list[str]],
    by: str | None = None,
) -> None:
    """Kaplan-Meier curves with their censoring marks (and the confidence band of a lone curve), the
    numbers at risk of each curve under them on the same time axis."""
    groups = list(analysis.km_)
    with styled():
        grid = into.add_gridspec(2, 1, height_ratios=[5, 0.6 + 0.35 * len(groups)])
        ax = into.add_subplot(grid[0])
        risk_ax = into.add_subplot(grid[1], sharex=ax)
        for i, group in enumerate(groups):
            colour = PALETTE[i % len(PALETTE)]
            kmf = analysis.km_[group]
            curve = kmf.survival_function_.iloc[:, 0]
            years = curve.index.to_numpy() / DAYS_PER_YEAR
            if len(groups) == 1:
                band = kmf.confidence_interval_survival_function_
                ax.fill_between(
                    years, band.iloc[:, 0], band.iloc[:, 1], step="post", color=colour, alpha=0.18, linewidth=0
                )
            ax.step(years, curve.to_numpy(), where="post", color=colour, linewidth=2, label=labels[group])
            rows = table if by is None else table[table[by] == group]
            censored = rows.loc[rows["event"] == 0, "duration"].to_numpy(dtype=float)
            if len(censored):
                ax.plot(
                    censored / DAYS_PER_YEAR,
                    kmf.survival_function_at_times(censored).to_numpy(),
                    "|",
                    color=colour,
                    markersize=8,
                    markeredgewidth=1.3,
                )
            row = len(groups) - i
            for year, count in enumerate(at_risk[group][: YEARS + 1]):
                risk_ax.text(year, row, str(count), ha="center", va="center", color=colour)
        ax.set_ylim(0, 1.03)
        ax.set_xlim(-0.15, YEARS + 0.2)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_ylabel(_("children without the event") if by is not None else _("children"))
        ax.set_xticks(range(YEARS + 1))
        ax.tick_params(labelbottom=False)
        ax.grid(axis="y", color="#DDE2E8", linewidth=0.8)
        ax.legend(loc="lower left", frameon=False)
        ax.set_title(title)
        risk_ax.set_ylim(0.4, len(groups) + 0.6)
        risk_ax.set_yticks(
            [len(groups) - i for i in range(len(groups))],
            [labels[g] if len(groups) > 1 else _("At risk") for g in groups],
        )
        risk_ax.tick_params(axis="y", length=0, pad=12)
        for spine in ("left", "top", "right"):
            risk_ax.spines[spine].set_visible(False)
        risk_ax.set_xlabel(_("years from diagnosis"))


def cox_section(table: pd.DataFrame, covariates: Mapping[str, str], threshold: int, *, key: str = "cox") -> Section:
    """Hazard ratios of death for the covariates together, with the check of proportional hazards.

    `covariates` maps a column of `table` to its label. Not fitted when there are fewer than ten
    deaths per covariate, or when the fit fails (a covariate that never varies, separation)."""
    section = Section(key, _("Hazard ratios of death (Cox model)"))
    data = table[["duration", "event", *covariates]].dropna()
    design_size = len(pd.get_dummies(data[list(covariates)], drop_first=True).columns) if len(data) else 0
    deaths = int(data["event"].sum()) if len(data) else 0
    if not design_size or deaths < EVENTS_PER_COVARIATE * design_size:
        section.notes.append(
            _("No Cox model: %(deaths)s deaths for %(terms)s terms; it needs %(per)s deaths per term.")
            % {"deaths": deaths, "terms": design_size, "per": EVENTS_PER_COVARIATE}
        )
        return section
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model = CoxModel().fit(data, list(covariates))
    except Exception as error:  # lifelines raises its own convergence errors and numpy's linear-algebra ones
        section.notes.append(_("No Cox model: the fit did not converge (%(error)s).") % {"error": type(error).__name__})
        return section
    if any(issubclass(w.category, ConvergenceWarning) for w in caught):
        section.notes.append(
            _(
                "Read with care: a term nearly decides who dies (it varies little between deaths and survivors), "
                "so its hazard ratio is unstable."
            )
        )
    rows = []
    for term, row in model.summary_.iterrows():
        code = next(c for c in covariates if str(term) == c or str(term).startswith(f"{c}_"))
        level = str(term)[len(code) + 1 :]
        rows.append(
            [
                f"{covariates[code]}: {level}" if level else covariates[code],
                f"{row['hazard_ratio']:.2f} ({row['lower']:.2f}{DASH}{row['upper']:.2f})",
                _p(row["p"]),
                _p(model.ph_check_.loc[term, "p"]),
            ]
        )
    frame = pd.DataFrame(rows, columns=[_("Term"), _("Hazard ratio (95% CI)"), "p", _("Proportional hazards, p")])
    section.tables.append(
        ReportTable(
            key,
            section.title,
            frame,
            _(
                "%(n)s children, %(deaths)s deaths. Each level against the first; a small p in the last column "
                "means the hazard ratio changes with time."
            )
            % {"n": model.n_, "deaths": model.events_},
        )
    )
    return section
