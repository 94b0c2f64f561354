"""The web import through the real worker: the request answers at once, the page shows the rows done,
the import finishes in the worker; a worker killed half-way leaves nothing and the job runs again."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from .story import Registry, browser, log_in, wait_for, write_rows

ROWS = 10_000


@pytest.mark.browser
def test_a_web_import_runs_in_the_worker_and_survives_the_worker_killed_half_way(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    registry = Registry(tmp_path)
    registry.set_up()
    source = tmp_path / "cases.csv"
    write_rows(source, ROWS)
    before = registry.count("cases_tumourcase")
    registry.serve()
    registry.start_worker()
    try:
        with sync_playwright() as playwright:
            page = browser(playwright).new_page()
            log_in(page, registry.url)
            page.goto(registry.url + "/import/")
            page.set_input_files("#id_file", str(source))
            page.select_option("#id_status", "draft")
            started = time.monotonic()
            page.click("main button.primary")
            page.wait_for_url("**/jobs/*/")
            assert time.monotonic() - started < 5, "the request waited for the work"
            # The check, in the worker (a dry run is quick): the page shows the report when it is over.
            page.wait_for_selector(f"text=Import these {ROWS} rows", timeout=120_000)
            assert registry.count("cases_tumourcase") == before

            # The import: the page shows the rows done as they are; the worker is killed once a fifth of
            # them is in its transaction.
            page.click(f"text=Import these {ROWS} rows")
            page.wait_for_url("**/jobs/*/")
            page.wait_for_selector("progress#job-progress", timeout=60_000)
            wait_for(
                lambda: (
                    int(page.get_attribute("progress#job-progress", "value") or 0) > ROWS // 5
                    if page.locator("progress#job-progress").count()
                    else False
                ),
                120,
                "a fifth of the rows",
            )
            registry.kill_worker()
            assert registry.count("cases_tumourcase") == before  # nothing half-written
            page.wait_for_selector("text=The worker stopped while this work ran", timeout=30_000)

            registry.start_worker()
            page.click("button:has-text('Run it again')")
            page.wait_for_selector("text=Import done", timeout=180_000)
            assert registry.count("cases_tumourcase") == before + ROWS
    finally:
        registry.stop()
