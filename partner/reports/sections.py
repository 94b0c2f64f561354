"""The parts a report is made of, shared by the page, the PDF and the CSV files.

Every table is a DataFrame of display text, and every count in it was released by the report's
`partner.release.Release`: for a protected report, counts from 1 to the threshold less one are
hidden (shown as "<5") with the cells that would let them be worked out, and the counts shown are
changed a little by their cell keys.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Hashable, Mapping
from dataclasses import dataclass, field

import pandas as pd
from matplotlib.figure import Figure, FigureBase

from partner.release import Release

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
    children: int | None  # released: None where hidden
    cases: int  # how many cases the report is about (never shown: only whether there are any)
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

    @property
    def children_shown(self) -> str:
        return shown_text(self.children, self.threshold)


def hidden_label(threshold: int) -> str:
    return f"<{threshold}"


def shown_text(value: int | None, threshold: int) -> str:
    """A released count as text: "<5" where it is hidden."""
    return hidden_label(threshold) if value is None or pd.isna(value) else str(int(value))


def counts_shown(
    release: Release, cells: Mapping[Hashable, Collection[int]], *, total: Collection[int] | None = None
) -> pd.Series:
    """The released counts of these sets of cases as text (see `Release.counts`), "<5" where hidden."""
    released = release.counts(cells, total=total)
    return released.map(lambda v: shown_text(v, release.threshold)).astype("object")


def percent_shown(shown: pd.Series, total: int | None) -> pd.Series:
    """Percentages of a released `total` as text, from released counts as text; blank where either is
    hidden."""

    def percent(text: str) -> str:
        if not total or text.startswith("<"):
            return ""
        return f"{100 * int(text) / total:.0f}"

    return shown.map(percent).astype("object")
