"""The parts a report is made of, shared by the page, the PDF and the CSV files.

Every table is a DataFrame of display text. When a report is suppressed, counts from 1 to the
threshold less one are hidden (shown as "<5") with the cells that would let them be worked out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.figure import Figure, FigureBase

from partner.analysis import suppress_series

DASH = "\u2013"  # between the bounds of an interval


@dataclass
class ReportTable:
    key: str
    title: str
    frame: pd.DataFrame
    note: str = ""


@dataclass
class Section:
    """A heading with what it shows: a figure with its caption, tables and notes, in that order.

    The figure is kept as the function that draws it (`draw(into)`, into a Figure or a SubFigure), so
    the page gets it at its own size and the PDF places it on an A4 page with its caption, both as
    vector graphics.
    """

    key: str
    title: str
    intro: str = ""
    draw: Callable[[FigureBase], None] | None = None
    figure_size: tuple[float, float] = (7.5, 5.0)
    figure_title: str = ""
    caption: str = ""
    tables: list[ReportTable] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def figure(self) -> Figure | None:
        """The figure on its own, for the page."""
        if self.draw is None:
            return None
        fig = Figure(figsize=self.figure_size, layout="constrained")
        self.draw(fig)
        return fig


@dataclass
class Report:
    """An entity's report, or the evidence pack of a guideline group (`kind` "evidence")."""

    entity: str
    name: str
    date: dt.date
    children: int
    cases: int
    threshold: int
    suppressed: bool
    kind: str = "report"
    sections: list[Section] = field(default_factory=list)

    @property
    def tables(self) -> dict[str, ReportTable]:
        """Every table of the report by its key, in the order shown."""
        return {table.key: table for section in self.sections for table in section.tables}

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    def shown(self, n: int) -> str:
        """A count as the reader may see it."""
        return hidden_label(self.threshold) if self.suppressed and 0 < n < self.threshold else str(n)

    @property
    def children_shown(self) -> str:
        return self.shown(self.children)


def hidden_label(threshold: int) -> str:
    return f"<{threshold}"


def counts_shown(values: pd.Series, threshold: int, suppressed: bool, *, total: str = "Total") -> pd.Series:
    """Counts as text, through primary and complementary suppression when asked; a row labelled
    `total` is taken as the sum of the others."""
    values = values.astype("int64")
    if suppressed and len(values):
        values = suppress_series(values, threshold, total=total)
    return values.map(lambda v: hidden_label(threshold) if pd.isna(v) else str(int(v))).astype("object")


def percent_shown(counts: pd.Series, shown: pd.Series, total: int) -> pd.Series:
    """Percentages of `total` as text, blank where the count is hidden."""
    share = counts.astype(float) / total * 100 if total else counts.astype(float) * np.nan
    text = share.map(lambda v: "" if pd.isna(v) else f"{v:.0f}")
    return text.where(~shown.str.startswith("<"), "")
