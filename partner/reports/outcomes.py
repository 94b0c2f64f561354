"""How the children fare: Kaplan-Meier figures and tables, overall and by group, and the Cox model.

Every curve, count at risk, median and survival at a year comes from `Release.survival`: exact for
a coordinator, coarsened for anyone else so that a curve reveals no more than the table beside it.
A curve is drawn only for a group of at least the threshold of children, whoever reads it. Groups
below it stay in the tables, as "<5" when the report is protected.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Mapping
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from lifelines.exceptions import ConvergenceWarning
from matplotlib.figure import FigureBase
from matplotlib.ticker import PercentFormatter

from partner.analysis import CoxModel
from partner.analysis.cohort import DAYS_PER_YEAR
from partner.lib.figures import PALETTE, styled
from partner.release import Release
from partner.release.layer import ALL, GroupSurvival
from partner.release.survival import Curve

from .sections import DASH, ReportTable, Section, shown_text

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


def _at_risk_texts(group: GroupSurvival, threshold: int) -> list[str]:
    return [shown_text(group.at_risk.get(y), threshold) for y in range(YEARS + 1)]


def overall_section(
    table: pd.DataFrame, name: str, release: Release, *, endpoint: str = "overall", key: str = "os"
) -> Section:
    """One endpoint for the whole cohort: the curve with its numbers at risk, and its table."""
    title, events_word = endpoint_words(endpoint)
    section = Section(key, title)
    threshold = release.threshold
    if len(table) < threshold:
        section.notes.append(_("No curve: fewer than %(n)s children with the dates it needs.") % {"n": threshold})
        return section
    released = release.survival(table, years=YEARS)
    group = released.groups[0]
    curve = group.curve
    if curve is None:
        section.notes.append(_("No curve: fewer than %(n)s events, whose times it would give away.") % {"n": threshold})
        return section
    texts = _at_risk_texts(group, threshold)
    at_risk = pd.DataFrame([texts], columns=[str(y) for y in range(YEARS + 1)], index=[_("At risk")])
    at_risk = at_risk.rename_axis(_("Years from diagnosis")).reset_index()
    measures = [
        (_("Children"), shown_text(group.n, threshold)),
        (events_word, shown_text(group.events, threshold)),
        (_("Median (years, 95% CI)"), _interval(*curve.median, _years)),
    ]
    for years in REPORTED:
        measures.append(
            (_("%(years)s-year survival (95%% CI)") % {"years": years}, _interval(*curve.at(years * DAYS_PER_YEAR)))
        )
    if group.followup is not None:
        measures.append((_("Median follow-up (years, 95% CI)"), _interval(*group.followup, _years)))
    prefix = "" if key == "os" else f"{key}_"
    section.tables = [
        ReportTable(f"{prefix}at_risk", _("Numbers at risk"), at_risk),
        ReportTable(
            "survival" if key == "os" else key,
            title,
            pd.DataFrame(measures, columns=[_("Measure"), _("Value")]),
            _("“—”: beyond the longest follow-up. Follow-up by the reverse Kaplan-Meier method.")
            + ("" if curve.exact else " " + _released_note(threshold)),
        ),
    ]
    section.figure_title = _("%(endpoint)s, %(entity)s (95%% confidence band)") % {"endpoint": title, "entity": name}
    section.draw = partial(
        draw_km,
        curves={ALL: curve},
        table=table,
        labels={ALL: title.lower()},
        title=section.figure_title,
        at_risk={ALL: texts},
    )
    section.figure_size = figure_size(1)
    if curve.exact:
        section.caption = _(
            "Kaplan-Meier estimate from diagnosis with its confidence band (95%); ticks mark children censored. "
            "The numbers still at risk are under the time axis."
        )
    else:
        section.caption = _(
            "Kaplan-Meier estimate from diagnosis with its confidence band (95%). "
            "The numbers still at risk are under the time axis."
        )
        section.caption += " " + _released_note(threshold)
    return section


def _released_note(threshold: int) -> str:
    return _(
        "Released curve: it falls only by blocks of %(n)s events or more, along a line between quarters of a "
        "year, and ends where fewer than %(n)s children remain; the median and the survival at each year are "
        "read from it."
    ) % {"n": threshold}


def group_section(
    table: pd.DataFrame,
    by: str,
    labels: Mapping[Hashable, str],
    *,
    key: str,
    title: str,
    group_word: str,
    release: Release,
    endpoint: str = "overall",
    note: str = "",
) -> Section:
    """One endpoint by group: a curve per group of at least `threshold` children whose curve may be
    drawn, the log-rank test between them, and a table of every group."""
    endpoint_title, events_word = endpoint_words(endpoint)
    threshold = release.threshold
    section = Section(key, title)
    if note:
        section.notes.append(note)
    present = table[table[by].notna()]
    if present.empty:
        section.notes.append(_("No child with a known %(group)s.") % {"group": group_word})
        return section
    released = release.survival(table, by, years=YEARS)
    drawn = [g for g in released.groups if g.curve is not None and (g.n or 0) >= threshold]
    rows = []
    for group in released.groups:
        values = [labels.get(group.group, str(group.group)), shown_text(group.n, threshold)]
        values.append(shown_text(group.events, threshold))
        if group in drawn and group.curve is not None:
            curve = group.curve
            values.append(_interval(*curve.median, _years))
            values.extend(_interval(*curve.at(y * DAYS_PER_YEAR)) for y in REPORTED)
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
    table_note = _("No estimate for a group of fewer than %(n)s children or events, or whose size is hidden.") % {
        "n": threshold
    }
    if released.missing:
        table_note += " " + ngettext(
            "%(n)s child with no known %(group)s is left out.",
            "%(n)s children with no known %(group)s are left out.",
            released.missing if released.missing is not None else threshold,
        ) % {
            "n": shown_text(released.missing, threshold),
            "group": group_word,
        }
    if not release.exact:
        table_note += " " + _released_note(threshold)
    section.tables.append(ReportTable(key, title, pd.DataFrame(rows, columns=columns), table_note))
    if not drawn:
        section.notes.append(_("No curve: no group of %(n)s children or more with enough events.") % {"n": threshold})
        return section
    test = released.logrank if len(drawn) == len([g for g in released.groups if g.curve is not None]) else None
    if test is not None:
        section.notes.append(
            _("Log-rank test between the groups drawn: chi-squared %(chi2).1f on %(df)s degrees of freedom, p %(p)s.")
            % {
                "chi2": test.test_statistic,
                "df": test.degrees_of_freedom,
                "p": _p(test.p_value) if test.p_value < 0.001 else f"= {_p(test.p_value)}",
            }
        )
    section.figure_title = f"{endpoint_title}: {title}"
    section.draw = partial(
        draw_km,
        curves={g.group: g.curve for g in drawn if g.curve is not None},
        table=present,
        labels={g.group: labels.get(g.group, str(g.group)) for g in drawn},
        title=section.figure_title,
        at_risk={g.group: _at_risk_texts(g, threshold) for g in drawn},
        by=by,
    )
    section.figure_size = figure_size(len(drawn))
    if release.exact:
        section.caption = _(
            "Kaplan-Meier estimates from diagnosis, one curve per group of at least %(n)s children; ticks mark "
            "children censored. The numbers still at risk in each group are under the time axis."
        ) % {"n": threshold}
    else:
        section.caption = _(
            "Kaplan-Meier estimates from diagnosis, one curve per group of at least %(n)s children and events. "
            "The numbers still at risk in each group are under the time axis."
        ) % {"n": threshold}
        section.caption += " " + _released_note(threshold)
    return section


def _p(p: float) -> str:
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def figure_size(groups: int) -> tuple[float, float]:
    """Inches for a figure of that many curves: each adds a row of numbers at risk."""
    return 7.5, 5.0 + 0.25 * max(0, groups - 1)


def draw_km(
    into: FigureBase,
    *,
    curves: Mapping[Hashable, Curve],
    table: pd.DataFrame,
    labels: Mapping[Hashable, str],
    title: str,
    at_risk: Mapping[Hashable, list[str]],
    by: str | None = None,
) -> None:
    """Released Kaplan-Meier curves (with the confidence band of a lone curve, and censoring marks
    only on exact curves), the numbers at risk of each curve under them on the same time axis."""
    groups = list(curves)
    with styled():
        grid = into.add_gridspec(2, 1, height_ratios=[5, 0.6 + 0.35 * len(groups)])
        ax = into.add_subplot(grid[0])
        risk_ax = into.add_subplot(grid[1], sharex=ax)
        for i, group in enumerate(groups):
            colour = PALETTE[i % len(PALETTE)]
            curve = curves[group]
            points = curve.points
            if curve.end > points["time"].iloc[-1]:  # flat to the end of what the curve speaks for
                points = pd.concat([points, points.iloc[[-1]].assign(time=curve.end)], ignore_index=True)
            years = points["time"].to_numpy() / DAYS_PER_YEAR
            if len(groups) == 1:
                ax.fill_between(
                    years,
                    points["lower"],
                    points["upper"],
                    step="post" if curve.exact else None,
                    color=colour,
                    alpha=0.18,
                    linewidth=0,
                )
            # an exact curve steps at each event; a released one falls along a line over each block of events
            draw = partial(ax.step, where="post") if curve.exact else ax.plot
            draw(years, points["survival"].to_numpy(), color=colour, linewidth=2, label=labels[group])
            if curve.exact:
                rows = table if by is None else table[table[by] == group]
                censored = rows.loc[rows["event"] == 0, "duration"].to_numpy(dtype=float)
                if len(censored):
                    heights = [curve.at(t)[0] for t in censored]
                    ax.plot(censored / DAYS_PER_YEAR, heights, "|", color=colour, markersize=8, markeredgewidth=1.3)
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


def cox_section(table: pd.DataFrame, covariates: Mapping[str, str], release: Release, *, key: str = "cox") -> Section:
    """Hazard ratios of death for the covariates together, with the check of proportional hazards.

    `covariates` maps a column of `table` to its label. Not fitted when there are fewer than ten
    deaths per covariate, or when the fit fails (a covariate that never varies, separation)."""
    section = Section(key, _("Hazard ratios of death (Cox model)"))
    data = table[["case_id", "duration", "event", *covariates]].dropna()
    design_size = len(pd.get_dummies(data[list(covariates)], drop_first=True).columns) if len(data) else 0
    deaths = int(data["event"].sum()) if len(data) else 0
    deaths_shown = shown_text(release.count(data.loc[data["event"] == 1, "case_id"]), release.threshold)
    if not design_size or deaths < EVENTS_PER_COVARIATE * design_size:
        section.notes.append(
            _("No Cox model: %(deaths)s deaths for %(terms)s terms; it needs %(per)s deaths per term.")
            % {"deaths": deaths_shown, "terms": design_size, "per": EVENTS_PER_COVARIATE}
        )
        return section
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            model = CoxModel().fit(data.drop(columns="case_id"), list(covariates))
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
            % {"n": shown_text(release.count(data["case_id"]), release.threshold), "deaths": deaths_shown},
        )
    )
    return section
