"""Reading one case over the API, as a partner registry's software would, under concurrent load.

Figure: requests per second and p99 latency of `GET /api/cases/{id}` (token auth, the user's scope,
the case with its form records, one access-log row per read) served by gunicorn (2 gthread workers
x 16 threads, DEBUG off) from a throw-away SQLite registry of 300 demo patients, with 32 keep-alive
connections on loopback. Peer, measured in the same run on the same server: `GET /health`, a JSON
view that touches no database, so the ratio is the price of a case read over Django's own floor.

The registry runs on SQLite as `SQLITE_PATH` configures it (WAL, busy timeout, connections kept
per thread). SQLite admits one writer at a time and every case read writes its access-log row (the
token's last use is written at most once a minute), so the writes of all 32 requests in flight
queue on one lock, which leaves the server waiting rather than computing: the script prints the
CPU the server used, out of the machine's cores, to show how much. The load generator runs on the
same cores.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import random
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
CONNECTIONS = 32
WARMUP = 1.0
DURATION = 5.0
PATIENTS = 300
USER = "ec.europe"  # the European coordinator sees every case; a token needs no second factor
WORKERS, THREADS = 2, 16


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    elapsed: float = 0.0
    client_cpu: float = 0.0
    server_cpu: float = 0.0
    machine_cpu: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        if not ordered:
            return math.nan
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def environment(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    for name, variable in (
        ("secret_key", "SECRET_KEY_FILE"),
        ("pseudonym_key", "PARTNER_PSEUDONYM_KEY_FILE"),
        ("linkage_key", "PARTNER_LINKAGE_KEY_FILE"),
    ):
        (workdir / name).write_text(secrets.token_urlsafe(48))
        env[variable] = str(workdir / name)
    (workdir / "static").mkdir()
    # SQLITE_PATH rather than a sqlite:// DATABASE_URL: only the former carries the registry's
    # SQLite options (busy timeout, WAL), which are what a SQLite deployment runs with.
    env.update(
        DEBUG="false",
        PARTNER_VAR_DIR=str(workdir),
        SQLITE_PATH=str(workdir / "bench.sqlite3"),
        ALLOWED_HOSTS=HOST,
        DJANGO_SETTINGS_MODULE="partner.settings",
    )
    return env


def partner(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "partner.cli", *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"partner {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def get(conn: http.client.HTTPConnection, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def wait_until_up(server: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn stopped at start:\n{log.read_text()}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            if get(conn, "/health", {})[0] == 200:
                conn.close()
                return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"gunicorn did not answer /health within 30 s:\n{log.read_text()}")


def visible_case_ids(port: int, headers: dict[str, str]) -> list[int]:
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    ids: list[int] = []
    while True:
        status, body = get(conn, f"/api/cases?limit=100&offset={len(ids)}", headers)
        if status != 200:
            sys.exit(f"listing the cases answered {status}: {body[:300]!r}")
        items = json.loads(body)["items"]
        if not items:
            return ids
        ids += [item["id"] for item in items]


def server_cpu(pid: int) -> float:
    """Seconds of CPU used so far by the gunicorn master and its workers (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        total = 0
        for p in [str(pid), *children]:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / tick
    except OSError:
        return float("nan")


def machine_cpu() -> float:
    """Seconds of CPU used so far on the whole machine, all processes and cores (Linux /proc)."""
    try:
        ticks = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except OSError:
        return float("nan")
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # all but idle and iowait


def load(port: int, server_pid: int, paths: list[str], headers: dict[str, str]) -> Run:
    run = Run()
    lock = threading.Lock()
    ready = threading.Barrier(CONNECTIONS + 1)
    start = time.perf_counter() + 0.2
    measure_from, stop = start + WARMUP, start + WARMUP + DURATION

    def client(seed: int) -> None:
        r = random.Random(seed)
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        latencies: list[float] = []
        errors: Counter[str] = Counter()
        ready.wait()
        time.sleep(max(0.0, start - time.perf_counter()))
        while (sent := time.perf_counter()) < stop:
            try:
                status, body = get(conn, r.choice(paths), headers)
                outcome = None if status == 200 else f"HTTP {status}: {body[:120]!r}"
            except (OSError, http.client.HTTPException) as exc:
                outcome = f"{type(exc).__name__}: {exc}"
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=30)
            done = time.perf_counter()
            if sent >= measure_from and done <= stop:
                if outcome is None:
                    latencies.append(done - sent)
                else:
                    errors[outcome] += 1
        conn.close()
        with lock:
            run.latencies += latencies
            run.errors.update(errors)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CONNECTIONS)]
    for t in threads:
        t.start()
    ready.wait()
    time.sleep(max(0.0, measure_from - time.perf_counter()))
    cpu0, server0, machine0 = time.process_time(), server_cpu(server_pid), machine_cpu()
    time.sleep(max(0.0, stop - time.perf_counter()))
    run.client_cpu, run.server_cpu = time.process_time() - cpu0, server_cpu(server_pid) - server0
    run.machine_cpu = machine_cpu() - machine0
    for t in threads:
        t.join()
    run.elapsed = DURATION
    return run


def report(name: str, run: Run) -> None:
    print(
        f"{name}: {run.rate:,.0f} requests/s, p50 {run.percentile(50) * 1000:.1f} ms, "
        f"p99 {run.percentile(99) * 1000:.1f} ms ({len(run.latencies):,} in {run.elapsed:.0f} s; "
        f"CPU in cores: server {run.server_cpu / run.elapsed:.2f}, load generator {run.client_cpu / run.elapsed:.2f}, "
        f"other processes {(run.machine_cpu - run.server_cpu - run.client_cpu) / run.elapsed:.2f})"
    )
    failed = sum(run.errors.values())
    if failed:
        print(f"  {failed:,} failed requests:")
        for outcome, n in run.errors.most_common(5):
            print(f"    {n:,} x {outcome}")
    if failed > len(run.latencies):
        sys.exit(f"{name}: most requests failed")


def count_access_log(workdir: Path) -> int:
    with sqlite3.connect(workdir / "bench.sqlite3") as db:
        return db.execute("SELECT count(*) FROM cases_accesslog").fetchone()[0]


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="partner-bench-api-"))
    server = None
    try:
        env = environment(workdir)
        started = time.perf_counter()
        partner(env, "migrate", "--no-input")
        partner(env, "dictionary", "load")
        partner(env, "demo", "--patients", str(PATIENTS), "--seed", "1", "--force")
        key = partner(env, "token", "create", USER, "--name", "benchmark").strip()
        print(f"registry of {PATIENTS} demo patients built in {time.perf_counter() - started:.1f} s")
        port = free_port()
        log = workdir / "gunicorn.log"
        gunicorn = [f"--bind={HOST}:{port}", f"--workers={WORKERS}", "--worker-class=gthread", f"--threads={THREADS}"]
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "partner.wsgi:application", *gunicorn, f"--error-logfile={log}"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until_up(server, port, log)
        auth = {"Authorization": f"Bearer {key}"}
        ids = visible_case_ids(port, auth)
        print(
            f"gunicorn: {WORKERS} gthread workers x {THREADS} threads; {CONNECTIONS} keep-alive connections, "
            f"{WARMUP:.0f} s warm-up then {DURATION:.0f} s per target; {len(ids)} cases visible to {USER}"
        )
        logged_before = count_access_log(workdir)
        cases = load(port, server.pid, [f"/api/cases/{i}" for i in ids], auth)
        logged = count_access_log(workdir) - logged_before
        trivial = load(port, server.pid, ["/health"], {})
        report("case read  GET /api/cases/{id}", cases)
        report("peer       GET /health (JSON, no database)", trivial)
        print(
            f"ratio: case read throughput is {cases.rate / trivial.rate:.2f}x the trivial view's; "
            f"p99 {cases.percentile(99) / trivial.percentile(99):.1f}x"
        )
        cores = os.cpu_count() or 1
        print(
            f"SQLite serialises writes: {logged:,} access-log rows went through its "
            f"single write lock during the case reads, while the server used {cases.server_cpu / cases.elapsed:.2f} "
            f"of {cores} cores"
        )
        for name, run in (("case reads", cases), ("trivial view", trivial)):
            other = (run.machine_cpu - run.server_cpu - run.client_cpu) / run.elapsed
            if run.machine_cpu / run.elapsed > 0.9 * cores and other > 0.1 * cores:
                print(f"other processes took {other:.2f} cores during the {name}: that figure is held down by them")
        idle = cores - cases.machine_cpu / cases.elapsed
        if idle > 0.2 * cores:
            print(
                f"{idle:.2f} cores stood idle during the case reads: the server was waiting, "
                "not computing (SQLite's write lock, WAL checkpoints as connections close)"
            )
        if logged < len(cases.latencies):
            sys.exit("fewer access-log rows than case reads answered")
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
