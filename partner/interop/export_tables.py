"""The registry's own exports read back as import files: `partner import cases` of what `partner export`
wrote closes the round trip.

- The pooled CSV (`export csv` or `datapackage`): cases.csv and one file per repeating form beside it
  (treatment.csv, follow_up.csv), each row keyed by `case_id` and `instance`. Give the folder, or
  cases.csv in it: the form files beside it are read with it. A workbook holding a `cases` sheet
  (else its first sheet) and a sheet per repeating form is read the same way.
- REDCap records (`export redcap`, records.csv): one row per record, then one per instance of a
  repeating instrument; checkboxes as `variable___code` columns, yes/no as 1/0, the centre as the
  record's data access group.

Either is folded into one row per case, line N of a repeating form as `form.N.field` columns, so the
whole export is still one file to the import: one transaction. `origins` remembers where each folded
cell came from, so that a problem names the file, row and column the user can open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from partner.accounts.models import Centre
from partner.dictionary import redcap
from partner.dictionary.loader import Dictionary

from .import_rows import Problem
from .mapping import Mapping
from .tables import Table, TableError, read_table

REDCAP_OWN = ("record_id", "redcap_repeat_instrument", "redcap_repeat_instance", "redcap_data_access_group")
WORKBOOKS = (".xlsx", ".xlsm")


@dataclass
class ExportTable(Table):
    """An export folded into one row per case; `origins[(row, column)]` is (file, row, column) at the source."""

    origins: dict[tuple[int, str], tuple[str, int, str]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    def locate(self, problem: Problem) -> Problem:
        """The problem named by the file, row and column it came from."""
        origin = self.origins.get((problem.row, problem.column))
        if origin is None:
            return problem
        source, row, column = origin
        return Problem(
            row, column, problem.value, problem.severity, problem.rule, problem.message, problem.blocking, source
        )


def reads_exports(mapping: Mapping | None) -> bool:
    """Whether a file read with `mapping` may be the registry's own export: not when the mapping gives
    `case_id` or `record_id` a meaning of the group's own (a national file kept in REDCap)."""
    return mapping is None or (mapping.target("case_id") == "case_id" and mapping.target("record_id") == "record_id")


def read_cases(
    path: Path | str,
    dictionary: Dictionary,
    *,
    name: str | None = None,
    sheet: str | None = None,
    encoding: str = "utf-8",
    mapping: Mapping | None = None,
) -> Table:
    """The table an import reads from `path` (`name`: the file as its sender named it, for an upload):
    a file as it is, or the registry's own export folded, its form files or sheets with it.

    A folder is read as an export of the pooled CSV (its cases.csv, or records.csv from REDCap)."""
    path = Path(path)
    if not reads_exports(mapping):
        return read_table(path, name=name, sheet=sheet, encoding=encoding)
    if path.is_dir():
        found = [path / n for n in ("cases.csv", "cases.xlsx", "records.csv") if (path / n).is_file()]
        if not found:
            raise TableError(f"{path}: a folder without cases.csv (nor cases.xlsx, nor REDCap's records.csv)")
        path = found[0]
    workbook = path.suffix.lower() in WORKBOOKS
    sheets = _sheet_names(path) if workbook and sheet is None else []
    first = "cases" if "cases" in sheets else sheet
    table = read_table(path, name=name, sheet=first, encoding=encoding)
    if is_redcap(table) or not is_export(table):
        return as_export(table, dictionary)
    forms: dict[str, Table] = {}
    for form in (f for f in dictionary.forms if f.repeating):
        beside = path.with_name(f"{form.code}{path.suffix}")
        if form.code in sheets and not _no_lines(path, form.code):
            forms[form.code] = read_table(path, name=name, sheet=form.code)
        elif not workbook and beside.is_file() and beside != path and not _no_lines(beside):
            forms[form.code] = read_table(beside, encoding=encoding)
    return fold_forms(table, forms)


def _no_lines(path: Path, sheet: str | None = None) -> bool:
    """True for a form's file or sheet that holds its header alone: no case had such a line. (The table
    reader refuses a file without rows, rightly for the cases' file.)"""
    if sheet is None:
        with path.open("rb") as handle:
            return sum(1 for line in handle if line.strip()) <= 1
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    try:
        return not any(
            any(c is not None and str(c).strip() for c in r) for r in book[sheet].iter_rows(min_row=2, values_only=True)
        )
    finally:
        book.close()


def is_export(table: Table) -> bool:
    """The pooled CSV's cases file: its rows keyed by the registry's case_id, the child by pseudonym."""
    return {"case_id", "pseudonym"} <= set(table.columns)


def as_export(table: Table, dictionary: Dictionary) -> Table:
    """A table read alone (an upload) as the export it is, if it is one: REDCap's records folded, the
    pooled CSV's cases file as an export without form files; any other table as it is."""
    if isinstance(table, ExportTable):
        return table
    if is_redcap(table):
        return fold_redcap(table, dictionary)
    if is_export(table):
        return fold_forms(table, {})
    return table


def _sheet_names(path: Path) -> list[str]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True)
    except (BadZipFile, OSError, KeyError, ValueError):
        return []  # read_table says what is wrong with it
    try:
        return list(book.sheetnames)
    finally:
        book.close()


def fold_forms(cases: Table, forms: dict[str, Table]) -> ExportTable:
    """cases.csv with the rows of each repeating form's file as `form.N.field` columns of its case's row."""
    folded = ExportTable(cases.source, list(cases.columns), [(n, dict(c)) for n, c in cases.rows])
    folded.files = [cases.source, *(t.source for t in forms.values())]
    by_case: dict[str, tuple[int, dict[str, str]]] = {}
    for number, cells in folded.rows:
        key = cells.get("case_id", "")
        if key in by_case:
            raise TableError(f"{cases.source}, row {number}, case_id: {key!r} again (row {by_case[key][0]})")
        by_case[key] = (number, cells)
    added: dict[str, None] = {}
    for code, table in forms.items():
        for needed in ("case_id", "instance"):
            if needed not in table.columns:
                raise TableError(f"{table.source}, row 1: no {needed} column (each row names its case and line)")
        seen: dict[tuple[str, int], int] = {}
        for number, cells in table.rows:
            key, instance = cells["case_id"], cells["instance"]
            if key not in by_case:
                raise TableError(f"{table.source}, row {number}, case_id: no case {key!r} in {cases.source}")
            if not instance.isdigit() or not 1 <= int(instance) <= 999:
                raise TableError(f"{table.source}, row {number}, instance: {instance!r} is not a line number 1-999")
            if (key, int(instance)) in seen:
                earlier = seen[(key, int(instance))]
                raise TableError(f"{table.source}, row {number}: line {instance} of case {key} again (row {earlier})")
            seen[(key, int(instance))] = number
            row, target = by_case[key]
            for column in table.columns:
                if column in ("case_id", "instance"):
                    continue
                name = f"{code}.{int(instance)}.{column}"
                target[name] = cells.get(column, "")
                added[name] = None
                folded.origins[(row, name)] = (table.source, number, column)
                folded.origins.setdefault((1, name), (table.source, 1, column))
    folded.columns += [c for c in added if c not in folded.columns]
    for _n, cells in folded.rows:
        for column in added:
            cells.setdefault(column, "")
    return folded


def is_redcap(table: Table) -> bool:
    return table.columns[:1] == ["record_id"] and "redcap_repeat_instrument" in table.columns


def fold_redcap(table: Table, dictionary: Dictionary) -> ExportTable:
    """REDCap records (as `export redcap` writes them) as one row per case, in the import's columns."""
    variables: dict[str, tuple[str, str, str]] = {}  # column -> (form, field, choice of a checkbox)
    booleans = set()
    for definition in dictionary.forms:
        for f in definition.fields:
            name = redcap.variable(f)
            if f.type == "multichoice":
                for option in f.choices:
                    variables[f"{name}___{checkbox_suffix(option.code)}"] = (definition.code, f.code, option.code)
            else:
                variables[name] = (definition.code, f.code, "")
                if f.type == "boolean":
                    booleans.add(name)
    repeating = {d.code for d in dictionary.forms if d.repeating}
    groups = {checkbox_suffix(code): code for code in Centre.objects.values_list("code", flat=True)}
    folded = ExportTable(table.source, [], files=[table.source])
    records: dict[str, tuple[int, dict[str, str]]] = {}
    order: dict[str, None] = {}
    for number, cells in table.rows:
        record, form = cells.get("record_id", ""), cells.get("redcap_repeat_instrument", "")
        instance = cells.get("redcap_repeat_instance", "")
        where = f"{table.source}, row {number}"
        if not record:
            raise TableError(f"{where}, record_id: empty")
        if form and form not in repeating:
            raise TableError(f"{where}, redcap_repeat_instrument: {form!r} is not a repeating form of the dictionary")
        if form and not (instance.isdigit() and 1 <= int(instance) <= 999):
            raise TableError(f"{where}, redcap_repeat_instance: {instance!r} is not a line number 1-999")
        if not form and record in records:
            raise TableError(f"{where}, record_id: record {record!r} again (row {records[record][0]})")
        if form and record not in records:
            raise TableError(f"{where}, record_id: the line of record {record!r} comes before its record's row")
        if not form:
            records[record] = (number, {})
        row, target = records[record]
        prefix = f"{form}.{int(instance)}." if form else ""
        found: list[tuple[str, str, str]] = []  # (import column, value, REDCap column)
        for column, text in cells.items():
            if column in REDCAP_OWN:
                continue
            owner, code, choice = variables.get(column, ("", "", ""))
            if not code:
                if not form:  # a column the dictionary does not know: the import names it
                    found.append((column, text, column))
            elif owner == form or (not form and owner not in repeating):
                if choice:
                    found.append((prefix + code, choice if text.strip() == "1" else "", column))
                elif column in booleans:  # yes/no: REDCap writes 1 and 0
                    found.append((prefix + code, {"1": "true", "0": "false"}.get(text.strip(), text), column))
                else:
                    found.append((prefix + code, text, column))
        group = cells.get("redcap_data_access_group", "")
        if not form and group:
            found.append(("centre", groups.get(checkbox_suffix(group), group), "redcap_data_access_group"))
        for name, value, column in found:
            if target.get(name) and value:  # the next box ticked of a checkbox
                target[name] += "|" + value
            elif value or name not in target:
                target[name] = value
            order[name] = None
            folded.origins.setdefault((row, name), (table.source, number, column))
            folded.origins.setdefault((1, name), (table.source, 1, column))
    folded.columns = list(order)
    folded.rows = [(n, {c: cells.get(c, "") for c in folded.columns}) for n, cells in records.values()]
    return folded


def checkbox_suffix(code: str) -> str:
    """A code as REDCap writes it in a checkbox column's name (`variable___code`) or a group's unique name."""
    return re.sub(r"[^a-z0-9_]", "", code.lower().replace("-", "_").replace(".", "_"))
