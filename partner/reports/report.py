"""The report of one tumour entity, built from the case frames: who the children are, how they were
treated and how they fare.

Every table is a DataFrame of display text, the same for the page, the PDF and the CSV files. When
the report is suppressed, counts from 1 to the threshold less one are hidden (shown as "<5") with
the cells that would let them be worked out, and a survival curve is drawn only for a group of at
least the threshold of children: a curve's steps give away the small counts a table hides.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from partner.analysis import Cohort, SurvivalAnalysis, describe, one_per_child, suppress_series, survival_table
from partner.analysis.cohort import DAYS_PER_YEAR
from partner.cases.frames import CaseFrames
from partner.dictionary.loader import Dictionary
from partner.quality.dashboard import _styled

CURVE_COLOUR = "#0072B2"
YEARS = 5
DASH = "\u2013"  # between the bounds of an interval


@dataclass
class ReportTable:
    key: str
    title: str
    frame: pd.DataFrame
    note: str = ""


@dataclass
class Report:
    entity: str
    name: str
    date: dt.date
    children: int
    cases: int
    threshold: int
    suppressed: bool
    tables: dict[str, ReportTable] = field(default_factory=dict)
    survival_figure: Figure | None = None
    survival_note: str = ""

    def shown(self, n: int) -> str:
        """A count as the reader may see it."""
        return hidden_label(self.threshold) if self.suppressed and 0 < n < self.threshold else str(n)

    @property
    def children_shown(self) -> str:
        return self.shown(self.children)


def hidden_label(threshold: int) -> str:
    return f"<{threshold}"


def _counts(values: pd.Series, threshold: int, suppressed: bool) -> pd.Series:
    """Counts as text, through suppression when asked."""
    values = values.astype("int64")
    if suppressed and len(values):
        values = suppress_series(values, threshold)
    return values.map(lambda v: hidden_label(threshold) if pd.isna(v) else str(int(v))).astype("object")


def _percent(counts: pd.Series, shown: pd.Series, total: int) -> pd.Series:
    share = counts.astype(float) / total * 100 if total else counts.astype(float) * np.nan
    text = share.map(lambda v: "" if pd.isna(v) else f"{v:.0f}")
    return text.where(~shown.str.startswith("<"), "")


def _variable_label(code: str) -> str:
    labels = {
        "sex": _("Sex"),
        "age_group": _("Age group (years)"),
        "country": _("Country"),
        "stage_group": _("Stage group"),
        "metastatic_at_diagnosis": _("Metastases at diagnosis"),
    }
    return labels.get(code, code)


def description_table(children: pd.DataFrame, threshold: int, suppressed: bool) -> ReportTable:
    """Counts and percentages of each characteristic, each variable suppressed on its own (its
    counts add up to the number of children), with the median age and its quartiles."""
    table = describe(children)
    total = len(children)
    parts = []
    for variable in [v for v in table.index.get_level_values("variable").unique() if v != "cases"]:
        rows = table.loc[variable]
        if variable.startswith("age at diagnosis"):
            continue
        counts = rows[("all", "value")]
        shown = _counts(counts, threshold, suppressed)
        level = [_("missing") if lv == "missing" else lv for lv in rows.index]
        parts.append(
            pd.DataFrame(
                {
                    _("Characteristic"): _variable_label(variable),
                    _("Level"): level,
                    _("Children"): shown.to_numpy(),
                    "%": _percent(counts, shown, total).to_numpy(),
                }
            )
        )
    age: Any = table.loc["age at diagnosis (years)", ("all", "value")]
    if total and (not suppressed or total >= threshold):
        parts.append(
            pd.DataFrame(
                {
                    _("Characteristic"): _("Age at diagnosis (years)"),
                    _("Level"): [_("median (quartiles)")],
                    _("Children"): [f"{age['median']:.1f} ({age['q1']:.1f}{DASH}{age['q3']:.1f})"],
                    "%": [""],
                }
            )
        )
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return ReportTable("cohort", _("Children at diagnosis"), frame)


def treatment_table(
    cases: pd.DataFrame, treatment: pd.DataFrame, labels: dict[str, str], threshold: int, suppressed: bool
) -> ReportTable:
    """The share of cases with at least one treatment line of each type (a case counts under
    every type it had, so the rows add up to more than the cases)."""
    ids = set(cases["case_id"].dropna().astype(int))
    lines = treatment[treatment["case_id"].isin(ids)] if len(treatment) else treatment
    counts = {
        code: int(lines.loc[lines["line_type"].astype("object") == code, "case_id"].nunique()) if len(lines) else 0
        for code in labels
    }
    counts[_("no treatment recorded")] = len(ids - set(lines["case_id"].dropna().astype(int)) if len(lines) else ids)
    series = pd.Series(counts, dtype="int64")
    shown = _counts(series, threshold, suppressed)
    frame = pd.DataFrame(
        {
            _("Treatment"): [labels.get(code, code) for code in series.index],
            _("Cases"): shown.to_numpy(),
            _("% of cases"): _percent(series, shown, len(ids)).to_numpy(),
        }
    )
    return ReportTable(
        "treatment", _("Treatment patterns"), frame, _("A case counts under every type of treatment it had.")
    )


def _years(days: float) -> str:
    if pd.isna(days):
        return "—"
    return _("not reached") if np.isinf(days) else f"{days / DAYS_PER_YEAR:.1f}"


def _share(value: Any) -> str:
    return "—" if pd.isna(value) else f"{value:.0%}"


def survival_tables(analysis: SurvivalAnalysis, threshold: int, suppressed: bool) -> tuple[ReportTable, ReportTable]:
    """The numbers at risk each year, and the median with the 3- and 5-year survival."""
    at_risk: Any = analysis.at_risk_.loc["all"] if "all" in analysis.at_risk_.index else pd.Series(dtype="int64")
    shown = _counts(at_risk, threshold, suppressed)
    risk = pd.DataFrame([shown.to_numpy()], columns=[str(y) for y in at_risk.index], index=[_("At risk")])
    risk = risk.rename_axis(_("Years from diagnosis")).reset_index()
    row = analysis.median_.iloc[0]
    deaths = _counts(pd.Series([int(row["events"])]), threshold, suppressed).iloc[0]
    measures = [
        (_("Children"), str(int(row["n"]))),
        (_("Deaths"), deaths),
        (
            _("Median survival (years, 95% CI)"),
            f"{_years(row['median'])} ({_years(row['lower'])}{DASH}{_years(row['upper'])})",
        ),
    ]
    for at in analysis.at_.itertuples():
        measures.append(
            (
                _("%(years)s-year survival (95%% CI)") % {"years": at.years},
                f"{_share(at.survival)} ({_share(at.lower)}{DASH}{_share(at.upper)})",
            )
        )
    summary = pd.DataFrame(measures, columns=[_("Measure"), _("Value")])
    return (
        ReportTable("at_risk", _("Numbers at risk"), risk),
        ReportTable(
            "survival",
            _("Overall survival"),
            summary,
            _("“—”: beyond the longest follow-up."),
        ),
    )


def survival_figure(analysis: SurvivalAnalysis, table: pd.DataFrame, at_risk: pd.DataFrame, name: str) -> Figure:
    """The Kaplan-Meier curve with its confidence band and censoring marks, the numbers at risk
    under it on the same time axis."""
    kmf = analysis.km_["all"]
    with _styled():
        fig = Figure(figsize=(7.5, 5.0), layout="constrained")
        grid = fig.add_gridspec(2, 1, height_ratios=[5, 1])
        ax = fig.add_subplot(grid[0])
        risk_ax = fig.add_subplot(grid[1], sharex=ax)
        curve = kmf.survival_function_.iloc[:, 0]
        band = kmf.confidence_interval_survival_function_
        years = curve.index.to_numpy() / DAYS_PER_YEAR
        ax.fill_between(
            years, band.iloc[:, 0], band.iloc[:, 1], step="post", color=CURVE_COLOUR, alpha=0.18, linewidth=0
        )
        ax.step(years, curve.to_numpy(), where="post", color=CURVE_COLOUR, linewidth=2, label=_("overall survival"))
        censored = table.loc[table["event"] == 0, "duration"].to_numpy(dtype=float)
        if len(censored):
            ax.plot(
                censored / DAYS_PER_YEAR,
                kmf.survival_function_at_times(censored).to_numpy(),
                "|",
                color=CURVE_COLOUR,
                markersize=9,
                markeredgewidth=1.5,
                label=_("censored"),
            )
        ax.set_ylim(0, 1.03)
        ax.set_xlim(-0.15, YEARS + 0.2)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.set_ylabel(_("children alive"))
        ax.set_xticks(range(YEARS + 1))
        ax.tick_params(labelbottom=False)
        ax.grid(axis="y", color="#DDE2E8", linewidth=0.8)
        ax.legend(loc="lower left", frameon=False)
        ax.set_title(_("Overall survival, %(entity)s (95%% confidence band)") % {"entity": name})
        risk_ax.set_ylim(0, 1)
        risk_ax.set_yticks([0.5], [_("At risk")])
        risk_ax.tick_params(axis="y", length=0, pad=12)
        for spine in ("left", "top", "right"):
            risk_ax.spines[spine].set_visible(False)
        for column in at_risk.columns[1:]:
            risk_ax.text(int(column), 0.5, str(at_risk[column].iloc[0]), ha="center", va="center")
        risk_ax.set_xlabel(_("years from diagnosis"))
    return fig


def build_report(
    frames: CaseFrames,
    entity: str,
    dictionary: Dictionary,
    *,
    threshold: int,
    suppressed: bool,
    language: str = "en",
    today: dt.date | None = None,
) -> Report:
    """The report of `entity` over the cases in `frames` (already scoped to the reader)."""
    name = dictionary.entity_by_code[entity].names.get(language)
    cases = Cohort(entity=entity).select(frames.cases) if len(frames.cases) else frames.cases
    children, _later = one_per_child(cases)
    report = Report(
        entity=entity,
        name=name,
        date=today or dt.date.today(),
        children=len(children),
        cases=len(cases),
        threshold=threshold,
        suppressed=suppressed,
    )
    if not len(cases):
        return report
    report.tables["cohort"] = description_table(children, threshold, suppressed)
    form = dictionary.form_by_code["treatment"]
    line_type = next(f for f in form.fields if f.code == "line_type")
    labels = {c.code: c.labels.get(language) for c in line_type.choices}
    treatment = frames.repeating.get("treatment", pd.DataFrame(columns=["case_id", "line_type"]))
    report.tables["treatment"] = treatment_table(cases, treatment, labels, threshold, suppressed)
    table = survival_table(cases, endpoint="overall")
    if len(table) < threshold:
        report.survival_note = _("No survival curve: fewer than %(n)s children with the dates it needs.") % {
            "n": threshold
        }
        return report
    analysis = SurvivalAnalysis().fit(table)
    at_risk, summary = survival_tables(analysis, threshold, suppressed)
    report.tables["at_risk"] = at_risk
    report.tables["survival"] = summary
    report.survival_figure = survival_figure(analysis, table, at_risk.frame, name)
    excluded = int(table.attrs.get("excluded", 0))
    if excluded:
        report.survival_note = _("%(n)s children left out for missing or inconsistent dates.") % {
            "n": report.shown(excluded)
        }
    return report
