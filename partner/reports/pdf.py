"""The report as a PDF: a title page, then each section's heading, figure, notes and tables, flowing
from page to page.

A PDF leaves the registry, so it is only ever made from a protected report (`Release.downloaded`).
"""

from __future__ import annotations

import io
import textwrap

from django.utils import formats
from django.utils.translation import gettext as _
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from partner.lib.figures import styled

from .sections import Report, ReportTable, Section

A4 = (8.27, 11.69)
MARGIN = 0.7  # inches, left and right
TOP = 0.7
BOTTOM = 0.6
HEADER_COLOUR = "#E8EDF2"


def _title_page(report: Report) -> Figure:
    fig = Figure(figsize=A4)
    kind = _("Evidence pack") if report.kind == "evidence" else _("Report")
    fig.text(0.1, 0.8, f"{_('PARTNER registry')} · {kind}", fontsize=14, color="#56606B")
    fig.text(0.1, 0.74, "\n".join(textwrap.wrap(report.name, 40)), fontsize=24, weight="bold", va="top")
    lines = [
        _("Entity code: %(code)s") % {"code": report.entity},
        _("Report of %(date)s") % {"date": formats.date_format(report.date, "DATE_FORMAT")},
        _("Children in the cohort: %(n)s") % {"n": report.children_shown},
        _("Counts from 1 to %(n)s are hidden, with the cells that would reveal them.") % {"n": report.threshold - 1},
        _("Every count shown is changed by at most 2, the same way each time; curves drop only after %(t)s events.")
        % {"t": report.threshold},
    ]
    if report.kind == "evidence":
        lines.append(_("Pooled over every country of the registry."))
    fig.text(0.1, 0.55, "\n\n".join(lines), fontsize=12, va="top")
    return fig


def _wrapped(texts: list[str], width: int = 105) -> str:
    return "\n\n".join("\n".join(textwrap.wrap(text, width)) for text in texts if text)


class _Pages:
    """Pages filled from the top: headings, figures, tables and notes follow each other, and a new
    page starts when the next one does not fit. Heights are in inches from the top margin."""

    def __init__(self, pdf: PdfPages):
        self.pdf = pdf
        self.page: Figure | None = None
        self.y = 0.0

    def _room(self) -> float:
        return A4[1] - BOTTOM - self.y if self.page is not None else 0.0

    def need(self, height: float) -> Figure:
        if self.page is None or height > self._room():
            self.close()
            self.page = Figure(figsize=A4)
            self.y = TOP
        return self.page

    def close(self) -> None:
        if self.page is not None:
            self.pdf.savefig(self.page)
            self.page = None

    def _at(self, height: float) -> tuple[float, float]:
        """The figure-relative bottom of a block of `height` inches starting at the cursor."""
        return 1 - (self.y + height) / A4[1], height / A4[1]

    def text(
        self, text: str, *, size: float, weight: str = "normal", colour: str = "#1D2733", gap: float = 0.1
    ) -> None:
        if not text:
            return
        lines = text.count("\n") + 1
        height = lines * size * 1.45 / 72 + gap
        page = self.need(height)
        page.text(MARGIN / A4[0], 1 - self.y / A4[1], text, fontsize=size, weight=weight, color=colour, va="top")
        self.y += height

    def figure(self, section: Section, *, heading_height: float) -> None:
        width, height = section.figure_size
        scale = min((A4[0] - 2 * MARGIN) / width, 1.0)
        drawn = height * scale
        self.need(drawn + heading_height)
        self.text(section.title, size=15, weight="bold", gap=0.15)
        assert self.page is not None and section.draw is not None
        self.page.set_layout_engine("constrained")  # lays out the figure drawn into the page
        bottom, relative = self._at(drawn)
        # The figure's own place on the page: the middle row of a grid with spacers above and below.
        grid = self.page.add_gridspec(
            3,
            1,
            height_ratios=[max(1 - bottom - relative, 1e-6), relative, max(bottom, 1e-6)],
            left=MARGIN / A4[0],
            right=1 - MARGIN / A4[0],
            top=1,
            bottom=0,
            hspace=0,
        )
        into = self.page.add_subfigure(grid[1])
        into.set_facecolor("none")
        section.draw(into)
        self.y += drawn + 0.1

    def table(self, table: ReportTable) -> None:
        frame = table.frame.astype(str)
        if len(frame.columns) == 0:
            return
        first = frame.columns[0]
        frame[first] = frame[first].where(frame[first] != frame[first].shift(), "")  # a label once per group
        widths = [max([*(len(w) for w in str(c).split()), *frame[c].str.len(), 4]) + 2 for c in frame.columns]
        size = 9 if sum(widths) <= 95 else 7.5
        headers = ["\n".join(textwrap.wrap(str(c), max(w, 8))) for c, w in zip(frame.columns, widths, strict=True)]
        header_lines = max(h.count("\n") + 1 for h in headers)
        row_height = size * 1.9 / 72
        start = 0
        while start < len(frame) or start == 0:
            room_rows = int((A4[1] - BOTTOM - TOP - 0.6) / row_height) - header_lines
            title_height = 0.35
            wanted = min(len(frame) - start, room_rows)
            self.need(title_height + (header_lines + max(wanted, 1)) * row_height + 0.2)
            rows_here = min(len(frame) - start, int((self._room() - title_height - 0.2) / row_height) - header_lines)
            title = table.title if start == 0 else f"{table.title} ({_('continued')})"
            self.text(title, size=11, weight="bold", gap=0.08)
            part = frame.iloc[start : start + rows_here]
            height = (header_lines + len(part)) * row_height
            bottom, relative = self._at(height)
            assert self.page is not None
            ax = self.page.add_axes((MARGIN / A4[0], bottom, 1 - 2 * MARGIN / A4[0], relative))
            ax.set_axis_off()
            cells = ax.table(
                cellText=part.to_numpy().tolist() or [[""] * len(headers)],
                colWidths=[w / sum(widths) for w in widths],
                colLabels=headers,
                bbox=(0, 0, 1, 1),  # type: ignore[arg-type]  # matplotlib takes the bounds as a tuple too
                cellLoc="left",
                colLoc="left",
            )
            cells.auto_set_font_size(False)
            cells.set_fontsize(size)
            for (row, _column), cell in cells.get_celld().items():
                cell.set_edgecolor("#C9D1DA")
                cell.set_height((header_lines if row == 0 else 1) / (header_lines + max(len(part), 1)))
                if row == 0:
                    cell.set_facecolor(HEADER_COLOUR)
                    cell.set_text_props(weight="bold")
            self.y += height + 0.1
            start += max(rows_here, 1)
            if start >= len(frame):
                break
        if table.note:
            self.text(_wrapped([table.note], 120), size=8, colour="#56606B", gap=0.15)
        self.y += 0.1


def render_pdf(report: Report) -> bytes:
    """The report as PDF bytes; refuses a report that was not suppressed."""
    if not report.suppressed:
        raise ValueError("a PDF leaves the registry: build the report with suppressed=True")
    buffer = io.BytesIO()
    metadata = {"Title": f"{report.entity}: {report.name}", "Creator": "PARTNER registry", "CreationDate": None}
    with styled(), PdfPages(buffer, metadata=metadata) as pdf:
        pdf.savefig(_title_page(report))
        pages = _Pages(pdf)
        for section in report.sections:
            if section.draw is not None:
                pages.figure(section, heading_height=0.5)
                pages.text(_wrapped([section.intro, section.caption, *section.notes]), size=8.5, gap=0.25)
            else:
                pages.need(1.5)
                pages.text(section.title, size=15, weight="bold", gap=0.15)
                pages.text(_wrapped([section.intro, *section.notes]), size=9, gap=0.15)
            for table in section.tables:
                pages.table(table)
            pages.y += 0.2
        pages.close()
    return buffer.getvalue()
