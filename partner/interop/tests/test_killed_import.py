"""An import killed half-way leaves the registry exactly as it was, and can be run again.

Real processes on a real database file: the import runs as `partner import cases` and is killed
with SIGKILL while it writes, as a crash or an out-of-memory kill would.
"""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROWS = 1_500
TABLES = (
    "cases_tumourcase",
    "cases_patient",
    "cases_formrecord",
    "cases_historicalformrecord",
    "cases_historicaltumourcase",
    "linkage_linkagekey",
    "quality_finding",
)


def partner(env, *args, **kwargs):
    return subprocess.run(
        [str(Path(sys.executable).parent / "partner"), *args], env=env, check=True, capture_output=True, **kwargs
    )


def snapshot(db: Path) -> dict:
    with sqlite3.connect(db) as connection:
        counts = {t: connection.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
        counts["integrity"] = connection.execute("PRAGMA integrity_check").fetchone()[0]
    return counts


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_killed_import_changes_nothing_and_the_same_import_then_succeeds(tmp_path):
    db = tmp_path / "registry.sqlite3"
    env = {
        **os.environ,
        "DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{db}",
        "PARTNER_VAR_DIR": str(tmp_path),
    }
    partner(env, "migrate", "--no-input")
    partner(env, "dictionary", "load")
    partner(env, "demo", "--patients", "10", "--seed", "4")
    rows = [
        "external_id,given_names,family_names,date_of_birth,sex,country_of_birth,diagnosis_date,morphology,topography"
    ]
    rows += [
        f"K-{i},Child{i},Family{i},2012-05-{1 + i % 28:02d},female,IT,2024-02-10,8370/3,C74.0" for i in range(ROWS)
    ]
    source = tmp_path / "cases.csv"
    source.write_text("\n".join(rows) + "\n")
    before = snapshot(db)

    command = [
        str(Path(sys.executable).parent / "partner"),
        "import",
        "cases",
        str(source),
        "--centre",
        "IT-PD",
        "--status",
        "draft",
    ]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wal = Path(f"{db}-wal")
    deadline = time.monotonic() + 60
    # Kill it once it has written a good part of the rows into the (uncommitted) transaction.
    while time.monotonic() < deadline and (not wal.exists() or wal.stat().st_size < 2_000_000):
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    assert process.poll() is None, "the import ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL

    assert snapshot(db) == before

    done = partner(env, "import", "cases", str(source), "--centre", "IT-PD", "--status", "draft", text=True)
    assert f"imported {ROWS} rows ({ROWS} new, 0 updated, 0 unchanged)" in done.stdout
    after = snapshot(db)
    assert after["cases_tumourcase"] == before["cases_tumourcase"] + ROWS
    assert after["integrity"] == "ok"
