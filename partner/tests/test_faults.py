"""Faults a deployment meets: the database connection dropped, a process killed, a full disk.

Each leaves the registry as it was (nothing half-written, no partial file), says what happened, and
the same job run again succeeds. The PostgreSQL faults are made on the server itself: a connection
of the test's own holds a SHARE lock on a table the job writes late, so the job is caught, rows
already written in its open transaction, waiting for that lock (`pg_locks` shows both); then its
connection is ended with pg_terminate_backend, or its process with SIGKILL. They are skipped on
SQLite, whose killed import partner/interop/tests/test_killed_import.py covers.
"""

from __future__ import annotations

import errno
import io
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import quote

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.test import TransactionTestCase

from partner.accounts.models import ApiToken
from partner.cases.models import AccessLog, FormRecord, Patient, TumourCase
from partner.interop.exporting import ExportError, export_cases
from partner.interop.hub import PushFailed, changed_cases, send
from partner.interop.models import ExportLog, PushedCase
from partner.linkage.models import LinkageKey
from partner.ops.backup import BackupError, write_backup
from partner.quality.models import Finding
from partner.testing import RegistryStory, RegistryTestCase

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent / "partner"
ON_POSTGRESQL = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
postgresql_only = pytest.mark.skipif(not ON_POSTGRESQL, reason="a PostgreSQL server's connection and backends")
ROWS = 1_200  # two chunks of the import: it is caught in the first, with the second still to come
WAIT = 180.0


# --- PostgreSQL: a job caught with rows written, then cut off ----------------------------------------


def conninfo(name: str | None = None) -> dict[str, Any]:
    """How to reach the test's database (or another on the same server) with psycopg."""
    s = connection.settings_dict
    info = {"dbname": name or s["NAME"], "user": s["USER"], "host": s["HOST"], "port": s["PORT"]}
    if s["PASSWORD"]:
        info["password"] = s["PASSWORD"]
    return {k: v for k, v in info.items() if v}


def database_url(name: str | None = None) -> str:
    s = connection.settings_dict
    user = quote(s["USER"] or "") + (f":{quote(s['PASSWORD'])}" if s["PASSWORD"] else "")
    return f"postgres://{user}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{name or s['NAME']}"


def psql(name: str | None = None, **kwargs: Any) -> Any:
    import psycopg

    return psycopg.connect(**conninfo(name), **kwargs)


class Catch:
    """A SHARE lock on `table` from a connection of its own: writers of the table wait behind it, readers
    do not, and what a waiting writer has already written in its transaction stays uncommitted."""

    def __init__(self, table: str, database: str | None = None) -> None:
        self.table, self.database = table, database

    def __enter__(self) -> Catch:
        self.db = psql(self.database)
        self.db.execute(f"LOCK TABLE {self.table} IN SHARE MODE")
        return self

    def waiting(self, alive: Callable[[], str | None]) -> int:
        """The backend that waits for the lock; `alive` names why the job cannot get there, if it cannot."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            row = self.db.execute(
                "SELECT pid FROM pg_locks WHERE relation = %s::regclass AND NOT granted", (self.table,)
            ).fetchone()
            if row:
                return int(row[0])
            problem = alive()
            assert problem is None, problem
            time.sleep(0.05)
        raise AssertionError(f"nothing came to write {self.table} within {WAIT:.0f} s")

    def holds_written_rows(self, pid: int, table: str) -> bool:
        """Whether the backend has written into `table` in its open transaction (it holds the writer's lock)."""
        row = self.db.execute(
            "SELECT 1 FROM pg_locks WHERE pid = %s AND relation = %s::regclass AND mode = 'RowExclusiveLock' "
            "AND granted",
            (pid, table),
        ).fetchone()
        return row is not None

    def terminate(self, pid: int) -> None:
        assert self.db.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)

    def __exit__(self, *exc: object) -> None:
        self.db.rollback()
        self.db.close()


def wait_until_gone(pid: int, database: str | None = None) -> None:
    """Until the server has ended the backend (and so rolled back what it held)."""
    with psql(database, autocommit=True) as db:
        deadline = time.monotonic() + WAIT
        while db.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
            assert time.monotonic() < deadline, f"backend {pid} still there after {WAIT:.0f} s"
            time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@postgresql_only
class ImportCutOff(RegistryStory, TransactionTestCase):
    """`partner import cases` on PostgreSQL, its connection ended or its process killed half-way."""

    def setUp(self) -> None:
        self.build_story()
        self.folder = Path(self.enterContext(tempfile.TemporaryDirectory()))
        rows = [
            "external_id,given_names,family_names,date_of_birth,sex,country_of_birth,diagnosis_date,morphology,topography"
        ]
        rows += [
            f"F-{i},Child{i},Family{i},2012-05-{1 + i % 28:02d},female,IT,2024-02-10,8370/3,C74.0" for i in range(ROWS)
        ]
        self.source = self.folder / "cases.csv"
        self.source.write_text("\n".join(rows) + "\n")
        self.env = {**os.environ, "DATABASE_URL": database_url(), "PARTNER_VAR_DIR": str(self.folder)}
        self.command = [str(BIN), "import", "cases", str(self.source), "--centre", "IT-PD", "--status", "draft"]

    def snapshot(self) -> dict[str, int]:
        return {
            "cases": TumourCase.objects.count(),
            "patients": Patient.objects.count(),
            "records": FormRecord.objects.count(),
            "record history": FormRecord.history.count(),
            "case history": TumourCase.history.count(),
            "linkage keys": LinkageKey.objects.count(),
            "findings": Finding.objects.count(),
        }

    def caught_import(self, catch: Catch) -> tuple[subprocess.Popen[str], int]:
        process = subprocess.Popen(
            self.command, env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

        def alive() -> str | None:
            if process.poll() is None:
                return None
            out, err = process.communicate()
            return f"the import ended ({process.returncode}) before it was caught:\n{out}{err}"

        pid = catch.waiting(alive)
        self.assertTrue(catch.holds_written_rows(pid, "cases_tumourcase"), "caught before it wrote any case")
        return process, pid

    def import_again_succeeds(self, before: dict[str, int]) -> None:
        done = subprocess.run(self.command, env=self.env, capture_output=True, text=True, timeout=600)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn(f"imported {ROWS} rows ({ROWS} new, 0 updated, 0 unchanged)", done.stdout)
        self.assertEqual(self.snapshot()["cases"], before["cases"] + ROWS)

    def test_a_connection_ended_by_the_server_during_an_import_stores_nothing_and_the_import_then_succeeds(self):
        before = self.snapshot()
        with Catch("linkage_linkagekey") as catch:
            process, pid = self.caught_import(catch)
            catch.terminate(pid)
        _out, err = process.communicate(timeout=WAIT)
        self.assertNotEqual(process.returncode, 0)
        # The server's own message, or the driver's when the import was sending a batch of rows.
        self.assertRegex(err, "terminating connection due to administrator command|server closed the connection")
        wait_until_gone(pid)
        self.assertEqual(self.snapshot(), before)
        self.import_again_succeeds(before)

    def test_an_import_killed_with_sigkill_on_postgresql_stores_nothing_and_then_succeeds(self):
        before = self.snapshot()
        with Catch("linkage_linkagekey") as catch:
            process, pid = self.caught_import(catch)
            process.send_signal(signal.SIGKILL)
            process.communicate(timeout=WAIT)
            self.assertEqual(process.returncode, -signal.SIGKILL)
        # The lock is gone: the backend goes on, finds its client dead and rolls back.
        wait_until_gone(pid)
        self.assertEqual(self.snapshot(), before)
        self.import_again_succeeds(before)


@postgresql_only
class HubPushCutOff(RegistryStory, TransactionTestCase):
    """A push to a European hub on PostgreSQL (a copy of this registry's database, served by gunicorn with
    the deployment's configuration) whose database connection is ended, or whose worker is killed, while
    it imports the cases: the hub keeps nothing of them, and the next push gets the one receipt."""

    def setUp(self) -> None:
        self.build_story()
        self.folder = Path(self.enterContext(tempfile.TemporaryDirectory()))
        (self.folder / "static").mkdir()
        _token, key = ApiToken.issue(self.nc_italy, "hub")
        self.token_file = self.folder / "token"
        self.token_file.write_text(key)
        # The hub: this registry as it stands (dictionary, centres, users, the token), in a database of its own.
        self.hub_db = f"{connection.settings_dict['NAME']}_hub"
        connections.close_all()
        with psql(autocommit=True) as db:
            db.execute(f"DROP DATABASE IF EXISTS {self.hub_db}")
            db.execute(f"CREATE DATABASE {self.hub_db} TEMPLATE {connection.settings_dict['NAME']}")
        self.addCleanup(self.drop_hub)
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log = self.folder / "gunicorn.log"
        env = {
            **os.environ,
            "DEBUG": "false",
            "DATABASE_URL": database_url(self.hub_db),
            "ALLOWED_HOSTS": "127.0.0.1",
            "PARTNER_VAR_DIR": str(self.folder),
        }
        self.hub = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                str(ROOT / "deploy" / "gunicorn.conf.py"),
                f"--bind=127.0.0.1:{port}",
                "--workers=1",
                "--access-logfile=/dev/null",
                f"--error-logfile={self.log}",
            ],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.addCleanup(self.stop_hub)
        self.wait_for_hub()
        for given, centre in (("Giulia", self.padova), ("Marco", self.milano)):
            case = self.register(
                centre,
                given=given,
                diagnosis={
                    "diagnosis_date": "2024-02-10",
                    "morphology": "8370/3",
                    "topography": "C74.0",
                    "basis_of_diagnosis": "7",
                },
                status={"patient_status": "alive", "last_contact_date": "2025-01-10"},
                consent={"consent_reuse": "given", "consent_date": "2024-02-12"},
            )
            TumourCase.objects.filter(pk=case.pk).update(status="validated")

    def wait_for_hub(self) -> None:
        import urllib.request

        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            self.assertIsNone(self.hub.poll(), self.log.read_text() if self.log.exists() else "gunicorn stopped")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.fail(f"the hub did not answer within {WAIT:.0f} s")

    def stop_hub(self) -> None:
        self.hub.terminate()
        try:
            self.hub.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.hub.kill()
            self.hub.wait()

    def drop_hub(self) -> None:
        with psql(autocommit=True) as db:
            db.execute(f"DROP DATABASE IF EXISTS {self.hub_db} WITH (FORCE)")

    def at_hub(self) -> dict[str, int]:
        tables = ("cases_tumourcase", "cases_patient", "cases_formrecord", "linkage_linkagekey", "interop_pushreceipt")
        with psql(self.hub_db) as db:
            return {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables}

    @contextmanager
    def push_caught_at_the_hub(self) -> Iterator[tuple[Catch, int, dict[str, Any]]]:
        """A push under way in a thread, the hub's import caught with the cases written, before its receipt."""
        payloads = [payload for _case, payload, _hash in changed_cases({})]
        self.assertEqual(len(payloads), 2)
        outcome: dict[str, Any] = {}

        def push() -> None:
            try:
                outcome["answer"] = send(self.url, self.token_file.read_text(), payloads, retries=0)
            except PushFailed as exc:
                outcome["failed"] = str(exc)

        pusher = threading.Thread(target=push)
        with Catch("interop_pushreceipt", self.hub_db) as catch:
            pusher.start()
            pid = catch.waiting(
                lambda: None if pusher.is_alive() else f"the push ended before it was caught: {outcome}"
            )
            self.assertTrue(catch.holds_written_rows(pid, "cases_tumourcase"), "caught before the hub wrote a case")
            yield catch, pid, outcome
        pusher.join(timeout=WAIT)
        self.assertFalse(pusher.is_alive())

    def push_again_gets_one_receipt(self, before: dict[str, int]) -> None:
        out = io.StringIO()
        call_command("hub", "push", "--to", self.url, "--token-file", str(self.token_file), stdout=out)
        self.assertIn("2 cases received", out.getvalue())
        self.assertIn("(2 new, 0 updated", out.getvalue())
        after = self.at_hub()
        self.assertEqual(after["interop_pushreceipt"], before["interop_pushreceipt"] + 1)
        self.assertEqual(after["cases_tumourcase"], before["cases_tumourcase"] + 2)
        self.assertEqual(PushedCase.objects.count(), 2)

    def test_a_connection_ended_while_the_hub_receives_keeps_nothing_and_the_retry_gets_one_receipt(self):
        before = self.at_hub()
        with self.push_caught_at_the_hub() as (catch, pid, outcome):
            catch.terminate(pid)
        self.assertIn("the hub answered 500", outcome.get("failed", ""), outcome)
        wait_until_gone(pid, self.hub_db)
        self.assertEqual(self.at_hub(), before)
        self.assertFalse(PushedCase.objects.exists())
        self.push_again_gets_one_receipt(before)  # the same worker, on a new connection

    def test_a_hub_worker_killed_mid_push_keeps_nothing_and_the_retry_gets_one_receipt(self):
        before = self.at_hub()
        with self.push_caught_at_the_hub() as (_catch, pid, outcome):
            children = Path(f"/proc/{self.hub.pid}/task/{self.hub.pid}/children").read_text().split()
            self.assertEqual(len(children), 1)
            os.kill(int(children[0]), signal.SIGKILL)
            deadline = time.monotonic() + WAIT
            while "failed" not in outcome and "answer" not in outcome and time.monotonic() < deadline:
                time.sleep(0.05)
        self.assertIn("no answer from the hub", outcome.get("failed", ""), outcome)
        wait_until_gone(pid, self.hub_db)
        self.assertEqual(self.at_hub(), before)
        self.push_again_gets_one_receipt(before)  # a worker started by gunicorn in its place


# --- A full disk -----------------------------------------------------------------------------------


class FullDisk:
    """Files opened for writing share `room` bytes; the write that does not fit writes what fits, then
    fails as a full disk does (ENOSPC). Files opened for reading are left alone."""

    def __init__(self, room: int) -> None:
        self.room = room
        self.written = 0
        self.failed = 0
        self.real = io.open

    def open(self, file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = self.real(file, mode, *args, **kwargs)
        return _Filling(handle, self) if any(c in mode for c in "wax+") else handle

    @contextmanager
    def patched(self) -> Iterator[FullDisk]:
        with mock.patch("builtins.open", self.open), mock.patch("io.open", self.open):
            yield self


class _Filling:
    def __init__(self, handle: Any, disk: FullDisk) -> None:
        self._handle, self._disk = handle, disk

    def write(self, data: Any) -> int:
        size = len(data.encode() if isinstance(data, str) else data)
        if self._disk.written + size > self._disk.room:
            fits = max(0, self._disk.room - self._disk.written)
            self._handle.write(data[:fits])
            self._handle.flush()
            self._disk.written += fits
            self._disk.failed += 1
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self._disk.written += size
        return int(self._handle.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)

    def __iter__(self) -> Any:
        return iter(self._handle)

    def __enter__(self) -> _Filling:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()


NO_SPACE = os.strerror(errno.ENOSPC)  # "No space left on device"


class BackupOnAFullDisk(RegistryStory, TransactionTestCase):
    def setUp(self) -> None:
        self.build_story()
        self.register(self.padova)
        self.folder = Path(self.enterContext(tempfile.TemporaryDirectory()))

    def test_a_backup_that_fills_the_disk_leaves_no_file_and_says_so(self) -> None:
        out = self.folder / "partner.tar.gz"
        with FullDisk(room=20_000).patched() as disk, self.assertRaises(BackupError) as raised:
            write_backup(out)
        self.assertEqual(disk.written, 20_000)  # it filled the disk, then failed (and again closing the archive)
        self.assertGreaterEqual(disk.failed, 1)
        self.assertEqual(str(raised.exception), f"{out}: cannot write the backup ({NO_SPACE}); no file was left there")
        self.assertEqual(list(self.folder.iterdir()), [])

    def test_a_backup_over_an_earlier_one_leaves_the_earlier_one_whole(self) -> None:
        out = self.folder / "partner.tar.gz"
        write_backup(out)
        earlier = out.read_bytes()
        with (
            FullDisk(room=20_000).patched(),
            self.assertRaisesMessage(CommandError, "an earlier backup there is unchanged"),
        ):
            call_command("backup", "--out", str(out), stdout=io.StringIO())
        self.assertEqual(out.read_bytes(), earlier)
        self.assertEqual(list(self.folder.iterdir()), [out])

    def test_a_full_disk_reported_only_when_the_data_reach_it_leaves_no_file(self) -> None:
        # A quota or a network file system may accept every write and fail when the file is flushed to disk.
        out = self.folder / "partner.tar.gz"
        with (
            mock.patch("os.fsync", side_effect=OSError(errno.ENOSPC, NO_SPACE)),
            self.assertRaisesMessage(BackupError, f"cannot write the backup ({NO_SPACE})"),
        ):
            write_backup(out)
        self.assertEqual(list(self.folder.iterdir()), [])


class ExportOnAFullDisk(RegistryTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        for given in ("Giulia", "Anna", "Sara"):
            cls.register(cls.padova, given=given)

    def setUp(self) -> None:
        self.folder = Path(self.enterContext(tempfile.TemporaryDirectory()))
        self.out = self.folder / "export"

    def test_a_fhir_export_that_fills_the_disk_leaves_no_folder_logs_nothing_and_says_so(self) -> None:
        with FullDisk(room=6_000).patched() as disk, self.assertRaises(ExportError) as raised:
            export_cases("fhir", self.out, user=self.dm_padova)
        self.assertEqual(disk.failed, 1)
        self.assertGreater(disk.written, 0)
        self.assertIn(f"cannot write the export into {self.out} ({NO_SPACE}); nothing exported", str(raised.exception))
        self.assertEqual(list(self.folder.iterdir()), [])
        self.assertFalse(ExportLog.objects.exists())
        self.assertFalse(AccessLog.objects.exists())

    def test_the_export_command_on_a_full_disk_says_so(self) -> None:
        with FullDisk(room=2_000).patched(), self.assertRaisesMessage(CommandError, f"({NO_SPACE}); nothing exported"):
            call_command("export", "csv", "--out", str(self.out), stdout=io.StringIO())
        self.assertEqual(list(self.folder.iterdir()), [])
        self.assertFalse(ExportLog.objects.exists())
