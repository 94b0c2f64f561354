"""The numbers and figures of the quality dashboard, from plain DataFrames (no database here).

Every figure is a `matplotlib.figure.Figure` written as SVG text, never pyplot's global state: the
web process draws for many requests at once. Colours are the Okabe-Ito set and a single-hue ramp,
both told apart with any colour vision; every figure has a table of the same numbers beside it.
"""

from __future__ import annotations

import textwrap

import matplotlib as mpl
import numpy as np
import pandas as pd
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from partner.lib.figures import styled, svg

from .rules.base import SEVERITIES

SEVERITY_ORDER = ("error", "warning", "query")
SEVERITY_COLOURS = {"error": "#D55E00", "warning": "#E69F00", "query": "#0072B2"}
ANSWER_COLOUR = "#009E73"

#: Age bands of queries not yet closed: (key, upper bound in days or None, label).
AGE_BANDS: tuple[tuple[str, int | None, Promise], ...] = (
    ("week", 7, gettext_lazy("up to 7 days")),
    ("month", 30, gettext_lazy("8 to 30 days")),
    ("quarter", 90, gettext_lazy("31 to 90 days")),
    ("older", None, gettext_lazy("over 90 days")),
)
AGE_COLOURS = ("#C6DBEF", "#6BAED6", "#2171B5", "#08306B")
MAX_RULES = 15
LABEL_WRAP = 32  # characters of a field's label on one line of the completeness grid


# --- the numbers ---------------------------------------------------------------------------------


def findings_by_rule(counts: pd.DataFrame) -> pd.DataFrame:
    """Open findings per rule and severity, most frequent first.

    `counts` has one row per group, rule and severity with the count `n`. Returns rule, severity,
    n (all groups together) and groups: (group, n) pairs, largest first.
    """
    if counts.empty:
        return pd.DataFrame(columns=["rule", "severity", "n", "groups"])
    rows = []
    for (rule, severity), part in counts.groupby(["rule", "severity"], sort=False):
        part = part.sort_values(["n", "group"], ascending=[False, True])
        pairs = list(zip(part["group"].astype(str), part["n"].astype(int), strict=True))
        rows.append({"rule": rule, "severity": severity, "n": int(part["n"].sum()), "groups": pairs})
    table = pd.DataFrame(rows)
    rank = table["severity"].map({s: i for i, s in enumerate(SEVERITY_ORDER)}).fillna(len(SEVERITY_ORDER))
    table = table.assign(rank=rank).sort_values(["n", "rank", "rule"], ascending=[False, True, True])
    return table.drop(columns="rank").reset_index(drop=True)


def _band(days: pd.Series) -> pd.Series:
    keys = pd.Series(AGE_BANDS[-1][0], index=days.index, dtype="object")
    for key, limit, _label in reversed(AGE_BANDS[:-1]):
        keys[days <= limit] = key
    return keys


def query_ages(queries: pd.DataFrame, now: pd.Timestamp) -> pd.DataFrame:
    """Queries not yet closed, per group (the index) and age band since they were raised.

    `queries` has group, raised_at and due. Returns a column per band key, then total, overdue (past
    their due date) and oldest (the age in whole days of the oldest query).
    """
    columns = [key for key, _limit, _label in AGE_BANDS]
    if queries.empty:
        return pd.DataFrame(columns=[*columns, "total", "overdue", "oldest"], dtype="int64")
    days = (now - pd.to_datetime(queries["raised_at"], utc=True)).dt.days.clip(lower=0)
    frame = pd.DataFrame({"group": queries["group"].astype(str), "band": _band(days), "days": days})
    table = pd.crosstab(frame["group"], frame["band"]).reindex(columns=columns, fill_value=0)
    table["total"] = table[columns].sum(axis=1)
    due = pd.to_datetime(queries["due"]).dt.date
    overdue = frame.assign(late=(due < now.date()).to_numpy()).groupby("group")["late"].sum()
    table["overdue"] = overdue.reindex(table.index, fill_value=0).astype("int64")
    table["oldest"] = frame.groupby("group")["days"].max().reindex(table.index).astype("int64")
    table.columns.name = None
    return table.sort_index()


def days_to_answer(queries: pd.DataFrame) -> pd.Series:
    """Days from raising a query to its first answer, as a decimal number of days."""
    raised = pd.to_datetime(queries["raised_at"], utc=True)
    answered = pd.to_datetime(queries["answered_at"], utc=True)
    return (answered - raised) / pd.Timedelta(days=1)


def answer_times(queries: pd.DataFrame) -> pd.DataFrame:
    """Median days to the first answer per group (the index), over the queries that were answered.

    `queries` has group, raised_at and answered_at. Returns answered (how many) and median_days.
    """
    if queries.empty:
        return pd.DataFrame(columns=["answered", "median_days"])
    frame = pd.DataFrame({"group": queries["group"].astype(str), "days": days_to_answer(queries)})
    table = frame.groupby("group").agg(answered=("days", "count"), median_days=("days", "median"))
    return table.sort_index()


def completeness_matrix(table: pd.DataFrame, by: str, labels: dict[tuple[str, str], str]) -> pd.DataFrame:
    """The completeness table as a grid: fields down (by label, in the order of `labels`), groups across."""
    if table.empty:
        return pd.DataFrame()
    keys = pd.Series(list(zip(table["form"], table["field"], strict=True)), index=table.index, dtype="object")
    matrix = table.assign(key=keys).pivot_table(index="key", columns=by, values="share", aggfunc="first")
    present = set(matrix.index)
    order = [key for key in labels if key in present] + [key for key in matrix.index if key not in labels]
    matrix = matrix.reindex(order)
    matrix.index = [labels.get(key, key[1]) for key in order]
    return matrix


# --- the figures ---------------------------------------------------------------------------------


def _empty(ax: Axes, message: str) -> None:
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, ha="center", va="center", color="#56606B", transform=ax.transAxes)


def _bar_height(n: int, per_bar: float = 0.32, extra: float = 1.4) -> float:
    return max(2.4, extra + per_bar * n)


def _start(height: float, width: float = 7.5) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(width, height), layout="constrained")
    ax = fig.add_subplot()
    return fig, ax


def findings_figure(table: pd.DataFrame) -> str:
    """Horizontal bars of open findings per rule, stacked by severity (the most frequent rules)."""
    title = _("Open findings by rule and severity")
    with styled():
        counts = table.pivot_table(index="rule", columns="severity", values="n", aggfunc="sum", fill_value=0)
        if not counts.empty:
            counts = counts.loc[counts.sum(axis=1).sort_values(ascending=False).index[:MAX_RULES]]
        fig, ax = _start(_bar_height(len(counts)))
        if counts.empty:
            _empty(ax, _("No open finding."))
        else:
            rules = list(counts.index)[::-1]
            left = np.zeros(len(rules))
            present = [str(s) for s in counts.columns]
            for severity in [s for s in SEVERITY_ORDER if s in present] + [
                s for s in present if s not in SEVERITY_ORDER
            ]:
                values = counts[severity].reindex(rules).to_numpy(dtype=float)
                ax.barh(
                    rules,
                    values,
                    left=left,
                    color=SEVERITY_COLOURS.get(severity, "#999999"),
                    label=str(SEVERITIES.get(severity, severity)),
                )
                left += values
            ax.set_xlabel(_("open findings"))
            ax.set_ylabel(_("rule"))
            ax.grid(axis="x", color="#E3E7EB", linewidth=0.8)
            ax.set_axisbelow(True)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.legend(title=_("severity"), frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
            if len(table["rule"].unique()) > MAX_RULES:
                title = _("Open findings by rule and severity (the %(n)d most frequent rules)") % {"n": MAX_RULES}
        ax.set_title(title)
        return svg(fig, title, "findings")


def query_age_figure(ages: pd.DataFrame, group_label: str) -> str:
    """Horizontal bars of queries not yet closed per group, stacked by age band."""
    title = _("Queries not yet closed, by age")
    with styled():
        fig, ax = _start(_bar_height(len(ages)))
        if ages.empty or not ages["total"].sum():
            _empty(ax, _("No query waiting."))
        else:
            groups = list(ages.index)[::-1]
            left = np.zeros(len(groups))
            for (key, _limit, label), colour in zip(AGE_BANDS, AGE_COLOURS, strict=True):
                values = ages[key].reindex(groups).to_numpy(dtype=float)
                ax.barh(groups, values, left=left, color=colour, label=str(label), edgecolor="white", linewidth=0.5)
                left += values
            ax.set_xlabel(_("queries"))
            ax.set_ylabel(group_label)
            ax.grid(axis="x", color="#E3E7EB", linewidth=0.8)
            ax.set_axisbelow(True)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.legend(title=_("time since raised"), frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        ax.set_title(title)
        return svg(fig, title, "query-ages")


def answer_time_figure(times: pd.DataFrame, group_label: str) -> str:
    """Horizontal bars of the median days to the first answer per group, with how many were answered."""
    title = _("Median days from a query to its first answer")
    with styled():
        fig, ax = _start(_bar_height(len(times)))
        if times.empty:
            _empty(ax, _("No query answered yet."))
        else:
            groups = list(times.index)[::-1]
            medians = times.loc[groups, "median_days"].to_numpy(dtype=float)
            bars = ax.barh(groups, medians, color=ANSWER_COLOUR)
            notes = [
                _("%(days).1f (n = %(n)d)") % {"days": m, "n": n}
                for m, n in zip(medians, times.loc[groups, "answered"], strict=True)
            ]
            ax.bar_label(bars, labels=notes, padding=3, fontsize=9)
            ax.set_xlim(0, max(1.0, float(np.nanmax(medians))) * 1.3)
            ax.set_xlabel(_("median days to the first answer"))
            ax.set_ylabel(group_label)
            ax.grid(axis="x", color="#E3E7EB", linewidth=0.8)
            ax.set_axisbelow(True)
        ax.set_title(title)
        return svg(fig, title, "answer-times")


def completeness_figure(matrix: pd.DataFrame, group_label: str) -> str:
    """A grid of the share of cases with each required field filled, fields down and groups across."""
    title = _("Completeness of the required fields")
    with styled():
        rows, cols = matrix.shape
        labels = [textwrap.fill(str(r), LABEL_WRAP) for r in matrix.index]
        lines = max((label.count("\n") + 1 for label in labels), default=1)
        label_width = 0.085 * max((len(line) for label in labels for line in label.split("\n")), default=10)
        width = max(6.5, 0.8 + label_width + 0.55 * cols + 1.4)
        fig, ax = _start(max(2.6, 1.6 + (0.3 if lines == 1 else 0.4) * rows), width)
        if matrix.empty:
            _empty(ax, _("No case to count yet."))
            ax.set_title(title)
            return svg(fig, title, "completeness")
        values = matrix.to_numpy(dtype=float)
        cmap = mpl.colormaps["cividis"].with_extremes(bad="#F2F2F2")
        image = ax.imshow(np.ma.masked_invalid(values), cmap=cmap, vmin=0, vmax=1, aspect="auto")
        for (i, j), value in np.ndenumerate(values):
            if np.isnan(value):  # no case of this group is asked for the field
                ax.text(j, i, "—", ha="center", va="center", fontsize=9, color="#56606B")
            else:
                colour = "white" if value < 0.55 else "black"  # readable on the dark and the light end
                ax.text(j, i, f"{value:.0%}", ha="center", va="center", fontsize=9, color=colour)
        ax.set_xticks(
            range(cols),
            [str(c) for c in matrix.columns],
            rotation=45 if cols > 8 else 0,
            ha="right" if cols > 8 else "center",
        )
        ax.set_yticks(range(rows), labels)
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_xlabel(group_label)
        ax.set_ylabel(_("required field"))
        bar = fig.colorbar(image, ax=ax, shrink=min(1.0, 6 / max(rows, 1)), format=PercentFormatter(1.0))
        bar.set_label(_("cases with the field filled"))
        bar.outline.set_visible(False)
        ax.set_title(title)
        return svg(fig, title, "completeness")
