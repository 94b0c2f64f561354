"""Reading a national group's file, CSV or Excel, into rows of text, refusing what cannot be read right.

Every refusal names the file, and the row and column where it can: a file with a problem is never
half-read. Row numbers are those a spreadsheet shows: the header is row 1, the first case row 2.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: A cell longer than this is a paste gone wrong (or an attack), never a registry value.
MAX_CELL = 10_000
#: Rows beyond this in one file: split the file.
MAX_ROWS = 1_000_000


class TableError(ValueError):
    """The file cannot be read as a table; the message says where and why."""


@dataclass
class Table:
    source: str
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # (row number, {column: text})
    spreadsheet: bool = False

    def column_label(self, column: str) -> str:
        """The column as a person finds it: its header, and in a workbook its letter too ("sex (C)")."""
        if self.spreadsheet and column in self.columns:
            return f"{column} ({column_letter(self.columns.index(column) + 1)})"
        return column


def read_table(
    path: Path | str, *, name: str | None = None, sheet: str | None = None, encoding: str = "utf-8"
) -> Table:
    """The rows of a .csv, .tsv or .txt (comma, semicolon or tab separated) or .xlsx file."""
    path = Path(path)
    source = name or path.name
    suffix = Path(source).suffix.lower()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TableError(f"{source}: cannot read the file ({exc.strerror})") from None
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(data, source, sheet)
    if suffix in (".csv", ".tsv", ".txt"):
        return _read_csv(data, source, encoding)
    raise TableError(f"{source}: not a table this registry reads (.csv, .tsv, .txt or .xlsx)")


def _read_csv(data: bytes, source: str, encoding: str) -> Table:
    if data.startswith(b"PK\x03\x04"):
        raise TableError(f"{source}: this is an Excel workbook saved under a text name; save it as .xlsx or as CSV")
    try:
        text = data.decode("utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TableError(
            f"{source}, line {line}: not {encoding} text (byte 0x{data[exc.start]:02x}); save the file as UTF-8, "
            "or give its encoding (e.g. latin-1)"
        ) from None
    except LookupError:
        raise TableError(f"{source}: unknown encoding {encoding!r}") from None
    if "\x00" in text:
        raise TableError(f"{source}: the file holds NUL characters: not a text table (UTF-16? save it as UTF-8)")
    # The header line decides: exports from European spreadsheets often separate with semicolons.
    # (csv.Sniffer guesses from quoting patterns and misreads short files.)
    header = text.split("\n", 1)[0]
    delimiter = max((",", ";", "\t"), key=lambda d: (header.count(d), d == ","))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records = []
    try:
        for record in reader:
            records.append(record)
            if len(records) > MAX_ROWS + 1:
                raise TableError(f"{source}: more than {MAX_ROWS:,} rows; split the file")
    except csv.Error as exc:
        raise TableError(f"{source}, line {reader.line_num}: not a readable CSV ({exc})") from None
    return _table(source, records)


def _read_xlsx(data: bytes, source: str, sheet: str | None) -> Table:
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (BadZipFile, InvalidFileException, KeyError, OSError):
        raise TableError(f"{source}: not a readable Excel workbook (.xlsx)") from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise TableError(f"{source}: no sheet {sheet!r} (sheets: {', '.join(book.sheetnames)})")
        ws = book[sheet] if sheet else _only_sheet_with_rows(book, source)
        records: list[list[str]] = []
        header: list[str] = []
        for number, cells in enumerate(ws.iter_rows(), start=1):
            records.append([_cell_text(cell, source, number, header) for cell in cells])
            if number == 1:
                header = [c.strip() for c in records[0]]
            if number > MAX_ROWS + 1:
                raise TableError(f"{source}: more than {MAX_ROWS:,} rows; split the file")
    finally:
        book.close()
    return _table(f"{source} [{ws.title}]", records, spreadsheet=True)


def _only_sheet_with_rows(book: Any, source: str) -> Any:
    """The workbook's one sheet that holds anything; refused when several do, since reading the first
    alone would leave the others' cases out without a word."""
    filled = [ws for ws in book.worksheets if _holds_anything(ws)]
    if len(filled) > 1:
        names = ", ".join(repr(ws.title) for ws in filled)
        raise TableError(
            f"{source}: {len(filled)} sheets hold rows ({names}); say which one holds the cases "
            "(--sheet NAME, or the Sheet box of the import page), or keep them on one sheet"
        )
    return filled[0] if filled else book.worksheets[0]


def _holds_anything(ws: Any) -> bool:
    rows = ws.iter_rows(values_only=True)
    return any(any(v is not None and str(v).strip() for v in values) for values in rows)


def column_letter(index: int) -> str:
    """The spreadsheet's name of the index-th column (1 is A, 27 is AA)."""
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _cell_text(cell: object, source: str, row: int, header: list[str]) -> str:
    value = getattr(cell, "value", None)
    kind = getattr(cell, "data_type", None)
    if kind == "f" or (isinstance(value, str) and value.startswith("=") and kind != "s"):
        index = getattr(cell, "column", 0) or 0
        name = header[index - 1] if 0 < index <= len(header) and header[index - 1] else ""
        column = f"{name} ({column_letter(index)})" if name else column_letter(index) or "?"
        where = f"{source}, row {row}, column {column}"
        raise TableError(f"{where}: a formula ({str(value)[:40]}); copy the sheet and paste values only")
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _table(source: str, records: list[list[str]], *, spreadsheet: bool = False) -> Table:
    while records and not any(c.strip() for c in records[-1]):
        records.pop()
    if not records:
        raise TableError(f"{source}: empty: no header row and no cases")
    header = [c.strip() for c in records[0]]
    while header and not header[-1]:
        header.pop()
    if not header:
        raise TableError(f"{source}, row 1: the header row is empty")
    seen: dict[str, int] = {}
    for i, name in enumerate(header, start=1):
        if not name:
            where = column_letter(i) if spreadsheet else i
            raise TableError(f"{source}, row 1, column {where}: a column without a name")
        if name in seen:
            first, again = (column_letter(seen[name]), column_letter(i)) if spreadsheet else (seen[name], i)
            raise TableError(f"{source}, row 1: column {name!r} appears twice (columns {first} and {again})")
        seen[name] = i
    table = Table(source, header, spreadsheet=spreadsheet)
    for number, record in enumerate(records[1:], start=2):
        if not any(c.strip() for c in record):
            continue
        extra = record[len(header) :]
        short = len(record) < len(header) and not spreadsheet  # a sheet leaves empty cells out
        if short or any(c.strip() for c in extra):
            raise TableError(f"{source}, row {number}: {len(record)} cells, but the header names {len(header)} columns")
        for column, cell in zip(header, record, strict=False):
            if len(cell) > MAX_CELL:
                size = f"{len(cell):,} characters (at most {MAX_CELL:,})"
                raise TableError(f"{source}, row {number}, column {table.column_label(column)}: a cell of {size}")
        cells = record + [""] * (len(header) - len(record))
        table.rows.append((number, {column: cell.strip() for column, cell in zip(header, cells, strict=False)}))
    if not table.rows:
        raise TableError(f"{source}: the header is there, but no case rows")
    return table
