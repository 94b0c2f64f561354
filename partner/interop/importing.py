"""Importing a national group's cases: every row through the dictionary's validator, then all or nothing.

    result = import_cases(read_table("trep.csv"), mapping=Mapping.from_file("trep.yaml"), dry_run=True)

A row is a case: `external_id` (the case's identifier in the source registry) and `centre` (a centre
code), the child's identity (given_names, family_names, date_of_birth, sex, country_of_birth: kept
only as a pseudonym and a linkage encoding) or the `pseudonym` a node derived offline
(`partner identity encode`, with its `linkage_encoding`), then one column per dictionary field:
its code for a form that does not repeat, `form.N.field` for line N of a repeating form.

The whole file is one transaction. A dry run, or a file with any error, is rolled back: the report
lists every problem (row, column, value, rule, message), the dictionary's errors and the quality
rules' findings alike, and nothing is written. A case already imported from the same centre under
the same identifier is updated, never duplicated: the columns the file holds replace the stored
values, the others stay.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction

from partner.cases.models import Status, TumourCase
from partner.dictionary.loader import Dictionary, get_dictionary
from partner.linkage.encoding import Encoder

from .import_rows import Centres, Problem, RowRefused, import_row, resolve_columns
from .mapping import Mapping
from .tables import Table

__all__ = ["ImportResult", "Problem", "import_cases", "iter_import", "problems_table", "resolve_columns"]

#: Cases checked by the quality rules in one pass after the rows are in.
CHECK_CHUNK = 5_000


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
) -> ImportResult:
    """Import the table's rows (see the module's documentation); nothing is written unless all pass."""
    steps = iter_import(
        table, mapping=mapping, dictionary=dictionary, user=user, centre=centre, status=status, dry_run=dry_run
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
) -> Generator[int, None, ImportResult]:
    """`import_cases` one row at a time: yields each row's number as it is done, returns the result.

    The whole file is still one transaction, held open between the yields; a caller that stops
    iterating (a browser that went away) closes the generator, which rolls it all back.
    """
    from partner.quality.receivers import deferred

    d = dictionary or get_dictionary()
    mapping = mapping or Mapping()
    result = ImportResult(table.source, rows=len(table.rows), dry_run=dry_run)
    targets, problems = resolve_columns(table, mapping, d)
    result.problems.extend(problems)
    if problems:
        return result
    if status not in (Status.DRAFT, Status.SUBMITTED):
        raise ValueError("cases are imported as draft or submitted")
    centres = Centres(user)
    encoder = Encoder(settings.LINKAGE_KEY)  # one for the file: each name's bigrams are hashed once
    rows_of_case: dict[int, int] = {}
    columns_of_case: dict[int, dict[tuple[str, int, str], str]] = {}
    seen: dict[tuple[int, str], int] = {}
    with transaction.atomic():
        with deferred():
            for number, cells in table.rows:
                try:
                    case, outcome, columns = import_row(
                        number, cells, targets, mapping, d, centres, centre, status, user, seen, encoder
                    )
                except RowRefused as refused:
                    result.problems.extend(refused.problems)
                else:
                    rows_of_case[case.pk] = number
                    columns_of_case[case.pk] = columns
                    setattr(result, outcome, getattr(result, outcome) + 1)
                yield number
        if not result.errors:
            result.problems.extend(_findings(rows_of_case, columns_of_case, user, blocking=status == Status.SUBMITTED))
        if dry_run or result.errors:
            transaction.set_rollback(True)
        else:
            result.committed = True
    result.problems.sort(key=lambda p: (p.row, p.column, p.rule))
    return result


def _findings(
    rows_of_case: dict[int, int],
    columns_of_case: dict[int, dict[tuple[str, int, str], str]],
    user: Any,
    *,
    blocking: bool,
) -> list[Problem]:
    """The quality rules over the imported cases, once, vectorised; each finding named by row and column."""
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
            column = columns_of_case[finding.case_id].get((form, finding.row or 1, code), finding.field)
            rule = rules.get(finding.rule)
            problems.append(
                Problem(
                    rows_of_case[finding.case_id],
                    column,
                    finding.values,
                    finding.severity,
                    finding.rule,
                    rule.text(get_dictionary()) if rule else finding.rule,
                    blocking and finding.severity == "error",
                )
            )
    return problems


def problems_table(problems: Iterable[Problem]) -> list[list[str]]:
    """The report's rows, for a CSV file or a page."""
    return [[str(p.row), p.column, p.value, p.severity, p.rule, p.message] for p in problems]
