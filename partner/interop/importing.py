"""Importing a national group's cases: every row through the dictionary's validator, then all or nothing.

    result = import_cases(read_table("trep.csv"), mapping=Mapping.from_file("trep.yaml"), dry_run=True)

A row is a case: `external_id` (the case's identifier in the source registry) and `centre` (a centre
code), the child's identity (given_names, family_names, date_of_birth, sex, country_of_birth: kept
only as a pseudonym and a linkage encoding) or the `pseudonym` a node derived offline
(`partner identity encode`, with its `linkage_encoding`), then one column per dictionary field:
its code for a form that does not repeat, `form.N.field` for line N of a repeating form.

The registry's own exports import back (partner.interop.export_tables): the pooled CSV (cases.csv and
a file per repeating form, folded into `form.N.field` columns) and REDCap's records. Their own columns
(case_id, child_id, status, the derived classification and ages) are accepted and not stored; the
country must be the centre's; a case the export gives as a draft is imported as a draft.

A value that a spreadsheet would run as a formula (=, +, -, @, a tab or a carriage return first) is
refused, unless its field is numeric.

The whole file is one transaction. A dry run, or a file with any error, is rolled back: the report
lists every problem (row, column, value, rule, message), the dictionary's errors and the quality
rules' findings alike, and nothing is written. A case already imported from the same centre under
the same identifier is updated, never duplicated: the columns the file holds replace the stored
values, the others stay.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from django.conf import settings
from django.db import transaction

from partner.cases.guard import check_identity
from partner.cases.models import Patient, Status, TumourCase
from partner.cases.services import CaseInvalid, NewCase, check_new_case, create_cases
from partner.dictionary.loader import Dictionary, get_dictionary
from partner.lib.pseudonym import Identity
from partner.linkage.encoding import REGISTRY_SCHEMA, Encoder
from partner.linkage.services import store_encodings

from .export_tables import ExportTable, as_export, reads_exports
from .import_rows import Centres, Problem, Row, RowReader, RowRefused, resolve_columns
from .import_store import existing_cases, import_row, update_row
from .mapping import Mapping
from .tables import Table, TableError

__all__ = ["ImportResult", "Problem", "import_cases", "iter_import", "problems_table", "resolve_columns"]

#: Rows read, checked and stored together: new cases are written with bulk inserts a chunk at a time.
CHUNK = 1_000
#: Cases checked by the quality rules in one pass after the rows are in.
CHECK_CHUNK = 5_000
#: New objects between two runs of the garbage collector while an import runs (see _Collector).
GC_THRESHOLD = 10_000


@dataclass
class ImportResult:
    source: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[Problem] = field(default_factory=list)
    dry_run: bool = False
    committed: bool = False

    @property
    def errors(self) -> list[Problem]:
        """The problems that stop the import: the file's, the dictionary's, and the quality rules' errors
        for cases imported as submitted (a draft may hold them: it is not submitted yet)."""
        return [p for p in self.problems if p.blocking]

    @property
    def error_count(self) -> int:
        return len(self.errors)


def import_cases(
    table: Table,
    *,
    mapping: Mapping | None = None,
    dictionary: Dictionary | None = None,
    user: Any = None,
    centre: str = "",
    status: str = Status.SUBMITTED,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    bulk: bool = True,
) -> ImportResult:
    """Import the table's rows (see the module's documentation); nothing is written unless all pass."""
    steps = iter_import(
        table,
        mapping=mapping,
        dictionary=dictionary,
        user=user,
        centre=centre,
        status=status,
        dry_run=dry_run,
        bulk=bulk,
    )
    while True:
        try:
            number = next(steps)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
        if progress is not None:
            progress(number)


def iter_import(
    table: Table,
    *,
    mapping: Mapping | None = None,
    dictionary: Dictionary | None = None,
    user: Any = None,
    centre: str = "",
    status: str = Status.SUBMITTED,
    dry_run: bool = False,
    bulk: bool = True,
) -> Generator[int, None, ImportResult]:
    """`import_cases` one row at a time: yields each row's number as it is done, returns the result.

    The whole file is still one transaction, held open between the yields; a caller that stops
    iterating (a browser that went away) closes the generator, which rolls it all back.

    New cases are checked row by row and stored `CHUNK` at a time with bulk inserts (`create_cases`);
    with `bulk=False` each goes through `create_case` alone, as a case registered on the web does.
    Both store the same rows (partner/interop/tests/test_bulk_import.py); the bulk path is many times
    faster. A case found again by centre and identifier is updated row by row either way.
    """
    from partner.quality.receivers import deferred

    d = dictionary or get_dictionary()
    mapping = mapping or Mapping()
    try:
        if reads_exports(mapping):
            table = as_export(table, d)  # the registry's own export, read without read_cases
    except TableError as exc:
        return ImportResult(table.source, problems=[Problem(1, "-", "", "error", "import", str(exc))], dry_run=dry_run)
    result = ImportResult(table.source, rows=len(table.rows), dry_run=dry_run)
    exported = isinstance(table, ExportTable)
    targets, problems = resolve_columns(table, mapping, d, exported=exported)
    if problems:
        result.problems = _located(table, problems)
        return result
    if status not in (Status.DRAFT, Status.SUBMITTED):
        raise ValueError("cases are imported as draft or submitted")
    reader = RowReader(targets, mapping, d, Centres(user), centre)
    encoder = Encoder(settings.LINKAGE_KEY)  # one for the file: each name's bigrams are hashed once
    rows_of_case: dict[int, int] = {}
    drafts: set[int] = set()  # cases imported as drafts: their quality findings do not stop the import
    with transaction.atomic():
        with deferred(), _collector.less_often():
            for start in range(0, len(table.rows), CHUNK):
                rows: list[tuple[int, Row | RowRefused]] = []
                for number, cells in table.rows[start : start + CHUNK]:
                    try:
                        rows.append((number, reader.read(number, cells)))
                    except RowRefused as refused:
                        rows.append((number, refused))
                read = [r for _n, r in rows if isinstance(r, Row)]
                found = existing_cases(read) if bulk else {}
                known = known_patients(read) if bulk else {}
                new: list[tuple[Row, NewCase]] = []
                for number, row in rows:
                    try:
                        if isinstance(row, RowRefused):
                            raise row
                        existing = found.get((row.centre.pk, row.external_id))
                        case: TumourCase | None
                        # The registry's own export keeps a draft a draft: it may lack what a submitted case needs.
                        as_status = Status.DRAFT if row.exported_status == Status.DRAFT else status
                        if not bulk:
                            case, outcome = import_row(row, reader, as_status, user, encoder)
                        elif existing is not None:
                            case, outcome = update_row(row, existing, reader, user)
                        else:  # stored with the chunk's other new cases, below
                            new.append((row, _check_new(row, reader, as_status, known)))
                            case, outcome = None, "created"
                    except RowRefused as refused:
                        result.problems.extend(refused.problems)
                    else:
                        if case is not None:
                            rows_of_case[case.pk] = number
                            if outcome == "created" and as_status == Status.DRAFT:
                                drafts.add(case.pk)
                        setattr(result, outcome, getattr(result, outcome) + 1)
                    yield number
                if new:
                    for (row, _new), stored in zip(new, _store_new(new, d, user, encoder), strict=True):
                        rows_of_case[stored.pk] = row.number
                        if stored.status == Status.DRAFT:
                            drafts.add(stored.pk)
        if not result.errors:
            drafts = set(rows_of_case) if status == Status.DRAFT else drafts
            result.problems.extend(_findings(rows_of_case, reader.columns, user, drafts))
        if dry_run or result.errors:
            transaction.set_rollback(True)
        else:
            result.committed = True
    result.problems = _located(table, result.problems)
    result.problems.sort(key=lambda p: (p.file, p.row, p.column, p.rule))
    return result


def _located(table: Table, problems: list[Problem]) -> list[Problem]:
    """The problems named where the person who sent the file finds them: an export's form file and its
    row, a workbook's column by its header and its letter."""
    if isinstance(table, ExportTable):
        return [table.locate(p) for p in problems]
    if table.spreadsheet:
        return [replace(p, column=table.column_label(p.column)) for p in problems]
    return problems


class _Collector:
    """Runs the cyclic garbage collector less often while imports store their rows.

    A chunk makes tens of thousands of model instances that live until it is written. At the default
    threshold (a collection every 700 new objects) the collector walks them over and over, and
    promotes them until whole collections walk every object of the process, the table's rows
    included: a fifth of the import's time. The threshold is restored when the last import running
    in the process ends (two requests may import at once).
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.running = 0
        self.before = gc.get_threshold()

    @contextlib.contextmanager
    def less_often(self) -> Iterator[None]:
        with self.lock:
            if self.running == 0:
                self.before = gc.get_threshold()
                gc.set_threshold(max(self.before[0], GC_THRESHOLD), *self.before[1:])
            self.running += 1
        try:
            yield
        finally:
            with self.lock:
                self.running -= 1
                if self.running == 0:
                    gc.set_threshold(*self.before)


_collector = _Collector()


def known_patients(rows: list[Row]) -> dict[str, Patient]:
    """The patients already registered under these rows' pseudonyms."""
    return {p.pseudonym: p for p in Patient.objects.filter(pseudonym__in={row.pseudonym for row in rows}).order_by()}


def _check_new(row: Row, reader: RowReader, status: str, known: dict[str, Patient]) -> NewCase:
    """Every check `import_row` makes of a new case before it writes; RowRefused with the problems.

    `known` holds the patients of the chunk's pseudonyms, and the ones this chunk will create: a
    row whose date of birth or sex differs from its patient's is refused, as `create_case` refuses it.
    """
    if gaps := row.gaps(reader):
        raise RowRefused(gaps)
    try:
        new = check_new_case(
            dictionary=reader.d,
            centre=row.centre,
            pseudonym=row.pseudonym,
            forms=row.forms,
            status=status,
            external_id=row.external_id,
        )
        patient = known.setdefault(new.pseudonym, Patient(pseudonym=new.pseudonym, date_of_birth=new.born, sex=new.sex))
        check_identity(patient, new.cleaned.get("registration", [{}])[0])
    except CaseInvalid as exc:
        raise reader.refused(row, exc.errors) from None
    return new


def _store_new(new: list[tuple[Row, NewCase]], d: Dictionary, user: Any, encoder: Encoder) -> list[TumourCase]:
    """The new cases of a chunk, their patients and linkage encodings, with bulk inserts."""
    cases = create_cases(d, [n for _row, n in new], user=user)
    wanted: list[tuple[Patient, Identity | tuple[str, str]]] = []
    for (row, _new), case in zip(new, cases, strict=True):
        if row.identity is not None:
            wanted.append((case.patient, row.identity))
        elif row.encoded.get("linkage_encoding"):
            schema = row.encoded.get("linkage_schema") or REGISTRY_SCHEMA.version
            wanted.append((case.patient, (row.encoded["linkage_encoding"], schema)))
    store_encodings(wanted, encoder)
    return cases


def _findings(
    rows_of_case: dict[int, int],
    columns: dict[tuple[str, int, str], str],
    user: Any,
    drafts: set[int],
) -> list[Problem]:
    """The quality rules over the imported cases, once, vectorised; each finding named by row and column.
    An error stops the import unless its case is in `drafts`: imported as a draft (not submitted yet)."""
    from partner.quality.models import Finding, FindingStatus
    from partner.quality.registry import rule_by_code
    from partner.quality.services import check_cases

    ids = sorted(rows_of_case)
    for start in range(0, len(ids), CHECK_CHUNK):
        check_cases(TumourCase.objects.filter(pk__in=ids[start : start + CHECK_CHUNK]), user=user)
    rules = rule_by_code(get_dictionary())
    problems = []
    for start in range(0, len(ids), CHECK_CHUNK):
        chunk = ids[start : start + CHECK_CHUNK]
        for finding in Finding.objects.filter(case_id__in=chunk, status=FindingStatus.OPEN):
            form, _dot, code = finding.field.partition(".")
            column = columns.get((form, finding.row or 1, code), finding.field)
            rule = rules.get(finding.rule)
            problems.append(
                Problem(
                    rows_of_case[finding.case_id],
                    column,
                    finding.values,
                    finding.severity,
                    finding.rule,
                    rule.text(get_dictionary()) if rule else finding.rule,
                    finding.case_id not in drafts and finding.severity == "error",
                )
            )
    return problems


def problems_table(problems: Iterable[Problem]) -> list[list[str]]:
    """The report's rows, for a CSV file or a page."""
    return [
        [str(p.row), f"{p.file}: {p.column}" if p.file else p.column, p.value, p.severity, p.rule, p.message]
        for p in problems
    ]
