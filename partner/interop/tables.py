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
        ws = book[sheet] if sheet else book.worksheets[0]
        records = []
        for number, cells in enumerate(ws.iter_rows(), start=1):
            records.append([_cell_text(cell, source, number) for cell in cells])
            if number > MAX_ROWS + 1:
                raise TableError(f"{source}: more than {MAX_ROWS:,} rows; split the file")
    finally:
        book.close()
    return _table(f"{source} [{ws.title}]", records)


def _cell_text(cell: object, source: str, row: int) -> str:
    value = getattr(cell, "value", None)
    kind = getattr(cell, "data_type", None)
    where = f"{source}, row {row}, column {getattr(cell, 'column_letter', '?')}"
    if kind == "f" or (isinstance(value, str) and value.startswith("=") and kind != "s"):
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


def _table(source: str, records: list[list[str]]) -> Table:
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
            raise TableError(f"{source}, row 1, column {i}: a column without a name")
        if name in seen:
            raise TableError(f"{source}, row 1: column {name!r} appears twice (columns {seen[name]} and {i})")
        seen[name] = i
    table = Table(source, header)
    for number, record in enumerate(records[1:], start=2):
        if not any(c.strip() for c in record):
            continue
        extra = record[len(header) :]
        short = len(record) < len(header) and not source.endswith("]")  # a sheet leaves empty cells out
        if short or any(c.strip() for c in extra):
            raise TableError(f"{source}, row {number}: {len(record)} cells, but the header names {len(header)} columns")
        for column, cell in zip(header, record, strict=False):
            if len(cell) > MAX_CELL:
                size = f"{len(cell):,} characters (at most {MAX_CELL:,})"
                raise TableError(f"{source}, row {number}, column {column}: a cell of {size}")
        cells = record + [""] * (len(header) - len(record))
        table.rows.append((number, {column: cell.strip() for column, cell in zip(header, cells, strict=False)}))
    if not table.rows:
        raise TableError(f"{source}: the header is there, but no case rows")
    return table
