"""A web import of 50,000 rows through the worker, against the command line importing the same file.

Figure: the seconds from the click to the page of the check and of the import (the request must answer
at once), the time the worker takes to check and to import the file from the page, the worker killed a
fifth of the way through the import (the registry then holds no new case) and the job run again from
its page. Peer, in the same run: `partner import cases` of the same file into a registry of its own
(a check, then the import), as a ratio. Each registry is a SQLite file under a temporary folder,
served by `partner runserver` with `partner db_worker` beside it, driven by Debian's chromium.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partner.settings")

import django

django.setup()

from partner.jobs.tests.story import Registry, web_import_story, write_rows  # noqa: E402

ROWS = int(os.environ.get("BENCH_WEB_IMPORT_ROWS", "50000"))


def command_line(folder: Path) -> tuple[float, float]:
    """The peer: `partner import cases` checking, then importing, the same rows."""
    registry = Registry(folder)
    registry.set_up()
    source = folder / "cases.csv"
    write_rows(source, ROWS)
    times = []
    for extra in (["--dry-run"], []):
        started = time.monotonic()
        registry.run("import", "cases", str(source), "--status", "draft", *extra)
        times.append(time.monotonic() - started)
    assert registry.count("cases_tumourcase") >= ROWS
    return times[0], times[1]


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="partner-bench-web-import-"))
    try:
        (folder / "web").mkdir()
        (folder / "cli").mkdir()
        seen = web_import_story(folder / "web", ROWS, timeout=1800)
        check_cli, import_cli = command_line(folder / "cli")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert seen["after_check"] == seen["after_kill"] == seen["before"], seen
    assert seen["after_import"] == seen["before"] + ROWS, seen
    print(f"web import of {ROWS:,} rows through the worker (SQLite, this machine)")
    print(f"  the check: page answered in {seen['check_request']:.2f} s, report after {seen['check']:.1f} s")
    print(
        f"  the import: page answered in {seen['import_request']:.2f} s; worker killed at "
        f"{seen['killed_at']:,} rows done ({len(seen['progress_values'])} progress values seen): "
        f"{seen['after_kill'] - seen['before']} cases left behind"
    )
    print(f"  run again from its page: imported in {seen['import_again']:.1f} s")
    print(f"  peer `partner import cases`: check {check_cli:.1f} s, import {import_cli:.1f} s")
    print(
        f"  ratio web/command line: check {seen['check'] / check_cli:.2f}, "
        f"import {seen['import_again'] / import_cli:.2f}"
    )


if __name__ == "__main__":
    main()
