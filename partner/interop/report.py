"""The import report as CSV (for a spreadsheet) and as a page (for a person), the same rows in both."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from django.template.loader import render_to_string

from .export_cells import neutralised
from .importing import ImportResult, problems_table

HEADER = ["row", "column", "value", "severity", "rule", "message"]


def report_csv(result: ImportResult) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for row in problems_table(result.problems):
        # The file's own text (a value, a column's name) that a spreadsheet would run is written as text.
        writer.writerow([c if c == "-" else neutralised(c) for c in row])
    return out.getvalue()


def report_html(result: ImportResult) -> str:
    return render_to_string("interop/report_page.html", {"result": result, "rows": problems_table(result.problems)})


def write_reports(result: ImportResult, target: Path) -> list[Path]:
    """The report at `target` (.csv) and beside it as .html; the paths written."""
    csv_path = target if target.suffix.lower() == ".csv" else target.with_suffix(".csv")
    html_path = csv_path.with_suffix(".html")
    csv_path.write_text(report_csv(result), encoding="utf-8")
    html_path.write_text(report_html(result), encoding="utf-8")
    return [csv_path, html_path]
