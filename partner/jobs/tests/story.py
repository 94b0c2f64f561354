"""A web import through real processes: the registry served by `partner runserver`, the worker by
`partner db_worker`, a browser that uploads the file and watches the page; the worker killed half-way
through the import and started again. Used by test_worker.py (a few thousand rows) and by
bench/bench_web_import.py (50,000 rows)."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from partner.cases.demo_reference import DEMO_PASSWORD
from partner.testing import CHROMIUM

PARTNER = str(Path(sys.executable).parent / "partner")
HEADER = (
    "external_id,centre,given_names,family_names,date_of_birth,sex,country_of_birth,"
    "diagnosis_date,morphology,topography"
)


def write_rows(path: Path, rows: int) -> None:
    lines = [HEADER]
    lines += [
        f"W-{i},IT-PD,Child{i},Family{i},2012-05-{1 + i % 28:02d},female,IT,2024-02-10,8370/3,C74.0"
        for i in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@dataclass
class Registry:
    """A registry of its own in a folder: database file, keys, uploads, job files."""

    folder: Path
    env: dict[str, str] = field(default_factory=dict)
    server: subprocess.Popen | None = None
    worker: subprocess.Popen | None = None
    url: str = ""

    def __post_init__(self) -> None:
        self.db = self.folder / "registry.sqlite3"
        self.env = {
            **{k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
            "DEBUG": "true",
            "DATABASE_URL": f"sqlite:///{self.db}",
            "PARTNER_VAR_DIR": str(self.folder),
            "PARTNER_JOB_STALLED_SECONDS": "15",  # three heartbeats (partner.jobs.context)
            "PARTNER_TASK_BACKEND": "django_tasks_db.DatabaseBackend",
        }

    def run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([PARTNER, *args], env=self.env, check=True, capture_output=True, text=True)

    def set_up(self) -> None:
        self.run("migrate", "--no-input")
        self.run("dictionary", "load")
        self.run("demo", "--patients", "10", "--seed", "4")

    def serve(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        log = (self.folder / "server.log").open("w")
        self.server = subprocess.Popen(
            [PARTNER, "runserver", "--noreload", f"127.0.0.1:{port}"], env=self.env, stdout=log, stderr=log
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError((self.folder / "server.log").read_text())

    def start_worker(self) -> None:
        log = (self.folder / "worker.log").open("a")
        self.worker = subprocess.Popen(
            [PARTNER, "db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.2"],
            env=self.env,
            stdout=log,
            stderr=log,
        )

    def kill_worker(self) -> None:
        assert self.worker is not None
        self.worker.send_signal(signal.SIGKILL)
        self.worker.wait(timeout=10)

    def stop(self) -> None:
        for process in (self.worker, self.server):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)

    def count(self, table: str) -> int:
        with sqlite3.connect(self.db) as connection:
            return int(connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


def browser(playwright: Any) -> Any:
    return playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])


def wait_for(test: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not test():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {seconds} s for {what}")
        time.sleep(0.1)


def log_in(page: Any, url: str, user: str = "dm.padova") -> None:
    page.goto(url + "/accounts/login/")
    page.fill("#id_username", user)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main button.primary")
    page.wait_for_url("**/work/")


def web_import_story(folder: Path, rows: int, *, timeout: float = 600) -> dict[str, Any]:
    """Check, then import, `rows` rows from the page; the worker killed a fifth of the way through the
    import and started again. Returns what was seen and how long each part took (seconds)."""
    from playwright.sync_api import sync_playwright

    registry = Registry(folder)
    registry.set_up()
    source = folder / "cases.csv"
    write_rows(source, rows)
    seen: dict[str, Any] = {"before": registry.count("cases_tumourcase")}
    registry.serve()
    registry.start_worker()
    wait_ms = timeout * 1000
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
            seen["check_request"] = time.monotonic() - started
            # The check, in the worker: the page shows the report when it is over.
            page.wait_for_selector(f"text=Import these {rows} rows", timeout=wait_ms)
            seen["check"] = time.monotonic() - started
            seen["after_check"] = registry.count("cases_tumourcase")

            # The import: the page shows the rows done as they are; the worker is killed once a fifth
            # of them is in its transaction.
            started = time.monotonic()
            page.click(f"text=Import these {rows} rows")
            page.wait_for_url("**/jobs/*/")
            seen["import_request"] = time.monotonic() - started
            page.wait_for_selector("progress#job-progress", timeout=wait_ms)
            progress = page.locator("progress#job-progress")

            def done_rows() -> int:
                return int(progress.get_attribute("value") or 0) if progress.count() else 0

            seen["progress_values"] = {done_rows()}
            while done_rows() <= rows // 5:
                seen["progress_values"].add(done_rows())
                if time.monotonic() - started > timeout:
                    raise AssertionError("the import did not reach a fifth of its rows")
                time.sleep(0.1)
            seen["progress_values"].add(done_rows())
            seen["killed_at"] = done_rows()
            registry.kill_worker()
            seen["after_kill"] = registry.count("cases_tumourcase")
            page.wait_for_selector("text=The worker stopped while this work ran", timeout=90_000)
            seen["stalled_shown"] = True

            registry.start_worker()
            started = time.monotonic()
            page.click("button:has-text('Run it again')")
            page.wait_for_selector("text=Import done", timeout=wait_ms)
            seen["import_again"] = time.monotonic() - started
            seen["after_import"] = registry.count("cases_tumourcase")
    finally:
        registry.stop()
    return seen
