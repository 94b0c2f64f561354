"""The web import as a job: the worker checks or imports the uploaded file, row by row, with the
options chosen at the check; the page shows the rows done, then the report.

The import is one transaction: a worker killed half-way leaves nothing written, and the job can be
run again from its page on the very same file (a case imported twice from the same centre and
identifier is updated, never duplicated).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from partner.dictionary.loader import get_dictionary
from partner.jobs.context import JobContext
from partner.jobs.models import Job
from partner.jobs.registry import JobFailed, register

from .export_tables import read_cases
from .forms import import_mappings
from .importing import ImportResult, iter_import, problems_table
from .mapping import Mapping, MappingError
from .report import report_csv
from .tables import TableError

#: Problems shown on the page; the downloadable report holds them all.
SHOWN_PROBLEMS = 500


def steps(path: Path, options: dict[str, Any], *, user: Any, dry_run: bool) -> tuple[int, Any]:
    """The import of the saved file with its options, row by row; TableError or MappingError first."""
    mapping = None
    if options["mapping"] is not None:
        saved = import_mappings(user).filter(pk=options["mapping"]).first()
        if saved is None:
            raise MappingError(_("The mapping chosen at the check is no longer available; check the file again."))
        mapping = Mapping.from_data(saved.definition, str(saved))
    # An export's workbook with its form sheets, and REDCap's records, are counted as the cases they hold.
    table = read_cases(
        path,
        get_dictionary(),
        name=options["name"],
        sheet=options["sheet"] or None,
        encoding=options["encoding"],
        mapping=mapping,
    )
    rows = iter_import(
        table, mapping=mapping, user=user, centre=options["centre"], status=options["status"], dry_run=dry_run
    )
    return len(table.rows), rows


def write_report(folder: Path, token: str, result: ImportResult) -> None:
    path = folder / f"{token}.report.csv"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as out:
        out.write(report_csv(result))


def run_import(job: Job, context: JobContext) -> dict[str, Any]:
    params = job.params
    path, options, dry_run = Path(params["path"]), params["options"], params["dry_run"]
    folder = path.parent
    if not path.exists():
        raise JobFailed(
            _("The uploaded file is no longer kept (files are removed an hour after use): upload it again.")
        )
    path.touch()  # its hour starts again while the worker reads it
    context.stage(_("Reading the file"))
    try:
        total, rows = steps(path, options, user=job.user, dry_run=dry_run)
    except (TableError, MappingError) as exc:
        path.unlink(missing_ok=True)
        raise JobFailed(_("%(problem)s. Nothing was imported.") % {"problem": str(exc).rstrip(".")}) from None
    context.stage(_("Checking the rows") if dry_run else _("Importing the rows"), total)
    while True:
        try:
            next(rows)
        except StopIteration as over:
            result: ImportResult = over.value
            break
        context.advance()
    write_report(folder, params["token"], result)
    if not dry_run or result.errors:
        path.unlink(missing_ok=True)  # imported, or never importable: only its report is kept
    return {
        "token": params["token"],
        "options": options,
        "source": result.source,
        "rows": result.rows,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "dry_run": result.dry_run,
        "committed": result.committed,
        "error_count": len(result.errors),
        "problem_count": len(result.problems),
        "problems": problems_table(result.problems[:SHOWN_PROBLEMS]),
        "can_import": result.dry_run and not result.errors and result.rows > 0,
    }


register("import", run_import, template="interop/_job_result.html")
