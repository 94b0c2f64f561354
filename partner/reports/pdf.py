"""The report as a PDF: A4 pages filled from the top, inside the margins. The first page opens with the
report's summary and the sections follow it: each heading, figure, notes and tables flowing from page to
page, a table's header row repeated on every page it continues onto.

Text is measured in the font it is drawn in, so a table too wide for the page gets smaller type, then
wrapped cells, then its columns split over several parts (each with the first column); nothing is cut
off at the edge of the paper.

A PDF leaves the registry, so it is only ever made from a protected report (`Release.downloaded`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import matplotlib as mpl
from django.utils import formats
from django.utils.translation import gettext as _
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.textpath import TextToPath
from matplotlib.transforms import Bbox

from partner.lib.figures import styled

from .sections import Report, ReportTable, Section

A4 = (8.27, 11.69)
MARGIN = 0.7  # inches, left and right
TOP = 0.7
BOTTOM = 0.6
WIDTH = A4[0] - 2 * MARGIN  # of the text, figures and tables
LAST = A4[1] - BOTTOM  # the lowest a line may reach, in inches from the top of the paper
HEADER_COLOUR = "#E8EDF2"
RULE_COLOUR = "#C9D1DA"
INK = "#1D2733"
GREY = "#56606B"
LEADING = 1.3  # a line's height over its type size
TABLE_SIZES = (9.0, 8.0, 7.0)  # points: a table tries each before wrapping its cells, then splitting its columns
PAD_X = 0.06  # inches between a cell's edges and its text
PAD_Y = 0.035
POINT = 1 / 72

_TEXT = TextToPath()
TitlePlace = Literal["left", "center"]
TITLE_PLACES: tuple[TitlePlace, ...] = ("left", "center")


@lru_cache(maxsize=8192)
def text_width(text: str, size: float, bold: bool = False) -> float:
    """The width in inches of `text` set in the registry's font at `size` points."""
    prop = FontProperties(family="DejaVu Sans", size=size, weight="bold" if bold else "normal")
    width, _height, _descent = _TEXT.get_text_width_height_descent(text, prop, ismath=False)
    return float(width) * POINT * 1.02  # a little room for the PDF's own rounding


def wrap(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """`text` broken into lines no wider than `width` inches; a word longer than a line is broken too."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if text_width(candidate, size, bold) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            while len(word) > 1 and text_width(word, size, bold) > width:
                cut = 1
                while cut < len(word) and text_width(word[: cut + 1], size, bold) <= width:
                    cut += 1
                lines.append(word[:cut])
                word = word[cut:]
            line = word
        lines.append(line)
    return lines


def line_height(size: float) -> float:
    return size * LEADING * POINT


@dataclass
class _Layout:
    """How a table (or one part of a split table) is set: its type size and the width of each column."""

    columns: list[int]
    size: float
    widths: list[float]


def _longest_word(text: str, size: float, bold: bool) -> float:
    return max((text_width(w, size, bold) for w in text.split()), default=0.0)


def _fit(
    headers: list[str], rows: list[list[str]], columns: list[int], sizes: Sequence[float] = TABLE_SIZES
) -> _Layout | None:
    """The largest type at which these columns fit the page: unwrapped cells if possible, else wrapped."""
    for wrapped in (False, True):
        for size in sizes:
            least, natural = [], []
            for c in columns:
                cells = [row[c] for row in rows]
                header = _longest_word(headers[c], size, True)
                words = max((_longest_word(cell, size, False) for cell in cells), default=0.0)
                whole = max((text_width(cell, size) for cell in cells), default=0.0)
                least.append(max(header, words) + 2 * PAD_X)
                natural.append(max(header, whole) + 2 * PAD_X)
            if not wrapped and sum(natural) <= WIDTH:
                spare = (WIDTH - sum(natural)) / len(columns)
                return _Layout(columns, size, [n + spare for n in natural])
            if wrapped and sum(least) <= WIDTH:
                # what is left goes to the columns that want it, in proportion to how much they want
                wants = [n - m for n, m in zip(natural, least, strict=True)]
                spare = WIDTH - sum(least)
                share = [spare * w / sum(wants) if sum(wants) else spare / len(columns) for w in wants]
                return _Layout(columns, size, [m + min(s, w) for m, s, w in zip(least, share, wants, strict=True)])
    return None


def table_layouts(headers: list[str], rows: list[list[str]]) -> list[_Layout]:
    """One layout, or one per part when the columns must be split: as few parts as fit, of even widths and
    one type size, each led by the first column."""
    whole = _fit(headers, rows, list(range(len(headers))))
    if whole is not None:
        return [whole]
    rest = list(range(1, len(headers)))
    for count in range(2, len(rest) + 1):
        per = -(-len(rest) // count)
        chunks = [rest[i : i + per] for i in range(0, len(rest), per)]
        fitted = [_fit(headers, rows, [0, *chunk]) for chunk in chunks]
        if all(fitted):
            size = min(layout.size for layout in fitted if layout)
            same = [_fit(headers, rows, [0, *chunk], (size,)) for chunk in chunks]
            return [layout or _squeezed([0, *chunk]) for layout, chunk in zip(same, chunks, strict=True)]
    return [_fit(headers, rows, [0, c]) or _squeezed([0, c]) for c in rest]


def _squeezed(columns: list[int]) -> _Layout:
    """A column too wide for the page even beside the first alone: equal widths, words broken where they
    must be."""
    return _Layout(columns, TABLE_SIZES[-1], [WIDTH / len(columns)] * len(columns))


class _Pages:
    """Pages filled from the top: each block asks for the room it needs, and a new page starts when the
    page has not got it. Heights are in inches from the top of the paper."""

    def __init__(self, pdf: PdfPages):
        self.pdf = pdf
        self.page: Figure | None = None
        self.y = TOP

    def room(self) -> float:
        return LAST - self.y if self.page is not None else 0.0

    def need(self, height: float) -> Figure:
        if self.page is None or height > self.room() + 1e-9:
            self.close()
            self.page = Figure(figsize=A4)
            self.page.patch.set_visible(False)  # paper is white: no rectangle the size of the page
            self.y = TOP
        return self.page

    def close(self) -> None:
        if self.page is not None:
            self.pdf.savefig(self.page)
            self.page = None

    def skip(self, height: float) -> None:
        """Space between blocks; none at the top of a page."""
        if self.page is not None and self.y > TOP:
            self.y += height

    def write(self, x: float, y: float, text: str, *, size: float, bold: bool = False, colour: str = INK) -> None:
        assert self.page is not None
        self.page.text(
            x / A4[0],
            1 - y / A4[1],
            text,
            fontsize=size,
            weight="bold" if bold else "normal",
            color=colour,
            va="top",
            ha="left",
        )

    def text(
        self,
        paragraphs: Sequence[str],
        *,
        size: float,
        bold: bool = False,
        colour: str = INK,
        gap: float = 0.08,
        keep: float = 0.0,
    ) -> None:
        """Paragraphs, line by line, so that a long one runs on to the next page; the last line is kept
        with `keep` inches of what follows (a heading with its figure or its first rows)."""
        for p, paragraph in enumerate(t for t in paragraphs if t):
            if p:
                self.y += gap
            lines = wrap(paragraph, WIDTH, size, bold)
            for i, line in enumerate(lines):
                extra = keep if i == len(lines) - 1 else 0.0
                self.need(line_height(size) + extra)
                self.write(MARGIN, self.y, line, size=size, bold=bold, colour=colour)
                self.y += line_height(size)

    def heading(self, title: str, *, size: float = 14, keep: float = 1.0) -> None:
        self.skip(0.15)
        self.text([title], size=size, bold=True, keep=keep + 0.08)
        self.y += 0.08

    def figure(self, section: Section, *, caption: float) -> None:
        """The section's heading and figure, kept on one page with `caption` inches of what follows."""
        assert section.draw is not None
        width, height = section.figure_size
        scale = min(WIDTH / width, (LAST - TOP - 0.6) / height, 1.0)
        width, height = width * scale, height * scale
        self.heading(section.title, keep=height + caption)
        page = self.need(height + caption)
        positions, titles = _laid_out(section, (width, height))
        left = MARGIN + (WIDTH - width) / 2
        # A subfigure takes its place from the ratios of its grid, never from the grid's margins.
        grid = page.add_gridspec(
            3,
            3,
            width_ratios=[left, width, A4[0] - left - width],
            height_ratios=[self.y, height, A4[1] - self.y - height],
            wspace=0,
            hspace=0,
        )
        into = page.add_subfigure(grid[1, 1])
        into.set_facecolor("none")
        section.draw(into)
        for axes, position, title in zip(into.axes, positions, titles, strict=True):
            axes.set_position(position)
            for loc, text in title.items():
                axes.set_title(text, loc=loc)
        self.y += height + 0.1

    def table(self, table: ReportTable) -> None:
        frame = table.frame.astype(str)
        if len(frame.columns) == 0:
            return
        first = frame.columns[0]
        frame[first] = frame[first].where(frame[first] != frame[first].shift(), "")  # a label once per group
        headers = [str(c) for c in frame.columns]
        rows = [[str(v) for v in row] for row in frame.to_numpy().tolist()]
        layouts = table_layouts(headers, rows)
        for n, layout in enumerate(layouts):
            title = table.title
            if len(layouts) > 1:
                title = _("%(title)s (part %(part)s of %(parts)s)") % {
                    "title": table.title,
                    "part": n + 1,
                    "parts": len(layouts),
                }
            self._table_part(title, headers, rows, layout)
        if table.note:
            self.y += 0.04
            self.text([table.note], size=8, colour=GREY)
        self.skip(0.12)

    def _table_part(self, title: str, headers: list[str], rows: list[list[str]], layout: _Layout) -> None:
        size = layout.size

        def cells(texts: list[str], bold: bool) -> list[list[str]]:
            return [
                wrap(texts[c], w - 2 * PAD_X, size, bold) for c, w in zip(layout.columns, layout.widths, strict=True)
            ]

        def height(lines: list[list[str]]) -> float:
            return max(len(ls) for ls in lines) * line_height(size) + 2 * PAD_Y

        head = cells(headers, True)
        body = [cells(row, False) for row in rows]
        head_height = height(head)
        title_height = line_height(10.5) + 0.05

        def start(continued: bool) -> None:
            text = f"{title} ({_('continued')})" if continued else title
            self.need(title_height + head_height + (height(body[0]) if body else 0.0))
            self.write(MARGIN, self.y, text, size=10.5, bold=True)
            self.y += title_height
            self._row(head, layout, head_height, header=True)

        self.skip(0.1)
        start(continued=False)
        for lines in body:
            row_height = height(lines)
            if row_height > self.room():
                self.close()
                start(continued=True)
            self._row(lines, layout, row_height, header=False)

    def _row(self, lines: list[list[str]], layout: _Layout, height: float, *, header: bool) -> None:
        page = self.need(height)
        x = MARGIN
        for cell, width in zip(lines, layout.widths, strict=True):
            page.add_artist(
                Rectangle(
                    (x / A4[0], 1 - (self.y + height) / A4[1]),
                    width / A4[0],
                    height / A4[1],
                    transform=page.transFigure,
                    facecolor=HEADER_COLOUR if header else "none",
                    edgecolor=RULE_COLOUR,
                    linewidth=0.6,
                )
            )
            for i, line in enumerate(cell):
                self.write(
                    x + PAD_X, self.y + PAD_Y + i * line_height(layout.size), line, size=layout.size, bold=header
                )
            x += width
        self.y += height

    def rule(self) -> None:
        page = self.need(0.1)
        y = 1 - (self.y + 0.05) / A4[1]
        page.add_artist(
            Line2D([MARGIN / A4[0], 1 - MARGIN / A4[0]], [y, y], transform=page.transFigure, color=RULE_COLOUR)
        )
        self.y += 0.1


def _laid_out(section: Section, size: tuple[float, float]) -> tuple[list[Bbox], list[dict[TitlePlace, str]]]:
    """Where the figure's axes go when it is laid out alone at `size`, and their titles wrapped to the
    room right of each axes' left edge: the page has no layout engine of its own, so the figure is drawn
    once on its own to find them, then again into the page with these places and titles."""
    assert section.draw is not None
    alone = Figure(figsize=size, layout="constrained")
    section.draw(alone)
    alone.draw_without_rendering()
    titles: list[dict[TitlePlace, str]] = []
    points = FontProperties(size=mpl.rcParams["axes.titlesize"]).get_size_in_points()
    bold = mpl.rcParams["axes.titleweight"] in ("bold", 700)
    for axes in alone.axes:
        room = (1 - axes.get_position().x0) * size[0] - 0.05
        wrapped = {
            loc: "\n".join(wrap(axes.get_title(loc), room, points, bold)) for loc in TITLE_PLACES if axes.get_title(loc)
        }
        for loc, title in wrapped.items():
            axes.set_title(title, loc=loc)
        titles.append(wrapped)
    alone.draw_without_rendering()
    return [axes.get_position() for axes in alone.axes], titles


def _summary(pages: _Pages, report: Report) -> None:
    """The top of the first page: what the report is, about whom, and how its counts are protected."""
    kind = _("Evidence pack") if report.kind == "evidence" else _("Report")
    pages.text([f"{_('PARTNER registry')} · {kind}"], size=11, colour=GREY)
    pages.y += 0.05
    pages.text([report.name], size=22, bold=True)
    pages.y += 0.15
    lines = [
        _("Entity code: %(code)s") % {"code": report.entity},
        _("Report of %(date)s") % {"date": formats.date_format(report.date, "DATE_FORMAT")},
        _("Children in the cohort: %(n)s") % {"n": report.children_shown},
    ]
    pages.text(lines, size=10.5, gap=0.04)
    pages.y += 0.1
    notes = [
        _("Counts from 1 to %(n)s are hidden, with the cells that would reveal them.") % {"n": report.threshold - 1},
        _("Every count shown is changed by at most 2, the same way each time; curves drop only after %(t)s events.")
        % {"t": report.threshold},
    ]
    if report.kind == "evidence":
        notes.append(_("Pooled over every country of the registry."))
    pages.text(notes, size=9, colour=GREY, gap=0.04)
    pages.y += 0.05
    pages.rule()


def render_pdf(report: Report) -> bytes:
    """The report as PDF bytes; refuses a report that was not suppressed."""
    if not report.suppressed:
        raise ValueError("a PDF leaves the registry: build the report with suppressed=True")
    buffer = io.BytesIO()
    metadata = {"Title": f"{report.entity}: {report.name}", "Creator": "PARTNER registry", "CreationDate": None}
    with styled(), PdfPages(buffer, metadata=metadata) as pdf:
        pages = _Pages(pdf)
        _summary(pages, report)
        for section in report.sections:
            if section.draw is not None:
                caption = [section.intro, section.caption, *section.notes]
                lines = sum(len(wrap(text, WIDTH, 8.5)) for text in caption[:2] if text)
                pages.figure(section, caption=min(lines, 6) * line_height(8.5))
                pages.text(caption, size=8.5, colour=GREY)
            else:
                pages.heading(section.title)
                pages.text([section.intro, *section.notes], size=9)
            for table in section.tables:
                pages.table(table)
            pages.skip(0.2)
        pages.close()
    return buffer.getvalue()
