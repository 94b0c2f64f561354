"""A list downloaded as a file: exactly the rows filtered and sorted on the page, every page of them."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from django.http import HttpResponse
from openpyxl import Workbook

from partner.interop.exporting import neutralised

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")


def _text(value: Any) -> str:
    """A cell as text that a spreadsheet shows and never runs as a formula."""
    if value is None:
        return ""
    return neutralised(str(value))


def as_csv(rows: Iterable[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([_text(v) for v in row])
    return out.getvalue().encode("utf-8-sig")  # the mark tells spreadsheets the file is UTF-8


def as_xlsx(rows: Iterable[list[Any]], title: str) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31] or "list")
    for row in rows:
        # Every cell is written as text: openpyxl would store "=..." as a formula otherwise.
        sheet.append([_text(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def download(rows: Iterable[list[Any]], fmt: str, name: str) -> HttpResponse:
    if fmt == "xlsx":
        response = HttpResponse(as_xlsx(rows, name), content_type=XLSX_TYPE)
    else:
        response = HttpResponse(as_csv(rows), content_type=CSV_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    response["Cache-Control"] = "no-store"
    return response
