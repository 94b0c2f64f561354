"""The report as a PDF: a title page, then one page per figure and per table.

A PDF leaves the registry, so it is only ever made from a suppressed report.
"""

from __future__ import annotations

import io
import textwrap

from django.utils import formats
from django.utils.translation import gettext as _
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from partner.quality.dashboard import _styled

from .report import Report, ReportTable

A4 = (8.27, 11.69)
ROWS_PER_PAGE = 38
HEADER_COLOUR = "#E8EDF2"


def _title_page(report: Report) -> Figure:
    fig = Figure(figsize=A4)
    fig.text(0.1, 0.8, _("PARTNER registry"), fontsize=14, color="#56606B")
    fig.text(0.1, 0.74, "\n".join(textwrap.wrap(report.name, 40)), fontsize=24, weight="bold", va="top")
    lines = [
        _("Entity code: %(code)s") % {"code": report.entity},
        _("Report of %(date)s") % {"date": formats.date_format(report.date, "DATE_FORMAT")},
        _("Children in the cohort: %(n)s") % {"n": report.children_shown},
        _("Counts from 1 to %(n)s are hidden, with the cells that would reveal them.") % {"n": report.threshold - 1},
    ]
    fig.text(0.1, 0.55, "\n\n".join(lines), fontsize=12, va="top")
    return fig


def _table_pages(table: ReportTable) -> list[Figure]:
    frame = table.frame
    pages = []
    starts = range(0, max(len(frame), 1), ROWS_PER_PAGE)
    for number, start in enumerate(starts, start=1):
        part = frame.iloc[start : start + ROWS_PER_PAGE]
        fig = Figure(figsize=A4)
        title = table.title if len(starts) == 1 else f"{table.title} ({number}/{len(starts)})"
        fig.text(0.08, 0.94, title, fontsize=16, weight="bold")
        ax = fig.add_axes((0.08, 0.1, 0.84, 0.8))
        ax.set_axis_off()
        if len(part):
            text = part.astype(str)
            first = text.columns[0]
            text[first] = text[first].where(text[first] != text[first].shift(), "")  # a label once per group
            lengths = [max([len(str(c)), *text[c].str.len()]) + 2 for c in text.columns]
            cells = ax.table(
                cellText=text.to_numpy().tolist(),
                colWidths=[n / sum(lengths) for n in lengths],
                colLabels=[str(c) for c in part.columns],
                loc="upper left",
                cellLoc="left",
                colLoc="left",
            )
            cells.auto_set_font_size(False)
            cells.set_fontsize(10)
            cells.scale(1, 1.5)
            for (row, _column), cell in cells.get_celld().items():
                cell.set_edgecolor("#C9D1DA")
                if row == 0:
                    cell.set_facecolor(HEADER_COLOUR)
                    cell.set_text_props(weight="bold")
        if table.note:
            fig.text(0.08, 0.05, table.note, fontsize=9, color="#56606B")
        pages.append(fig)
    return pages


def render_pdf(report: Report) -> bytes:
    """The report as PDF bytes; refuses a report that was not suppressed."""
    if not report.suppressed:
        raise ValueError("a PDF leaves the registry: build the report with suppressed=True")
    buffer = io.BytesIO()
    metadata = {"Title": f"{report.entity}: {report.name}", "Creator": "PARTNER registry", "CreationDate": None}
    with _styled(), PdfPages(buffer, metadata=metadata) as pdf:
        pdf.savefig(_title_page(report))
        if report.survival_figure is not None:
            pdf.savefig(report.survival_figure)
        elif report.survival_note:
            note = Figure(figsize=A4)
            note.text(0.08, 0.9, report.survival_note, fontsize=12)
            pdf.savefig(note)
        for table in report.tables.values():
            for page in _table_pages(table):
                pdf.savefig(page)
    return buffer.getvalue()
