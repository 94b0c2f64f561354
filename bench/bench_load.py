"""Many users of several centres at once, over the API: registering, reading and updating cases.

Figure: requests per second and p50/p95 latency of a mixed workload served by gunicorn with the
deployment's configuration (deploy/gunicorn.conf.py, DEBUG off) from a throw-away registry, on
SQLite and, when a server answers on 127.0.0.1:5432, on PostgreSQL as a second figure. The users:
a data manager and a clinician at each of 12 centres in 4 countries, and the national coordinators
of Italy and France, each on their own keep-alive connection with their own API token. A centre's
user registers cases (POST /api/cases), lists and reads the centre's cases, updates the diagnosis
of the cases they registered (PATCH with the version read), asks for a case of another centre, and
once a round races the other user of the centre on one record: both read it, both write it with
the version read. A coordinator lists and reads the country's cases and asks for another country's.
Peer, measured in the same run on the same server with as many connections: GET /health, a view
that touches no database, so the ratio is the price of the registry's work over the server's floor.

Checked during the run (the bench fails when one is broken): no 5xx, no connection error, and no
worker lost (no error in gunicorn's log); no response holds a case outside the user's scope (each
case returned is of the user's centre, or of the coordinator's country; another centre's case
answers 404, read or written); every race ends with one 200 and one 409 whose current values are
the winner's; no lost update (after the run each record written holds the last accepted write, and
no two accepted writes started from one version).
Goal: every check passes. The users do not pause between requests, so the server runs flat out
and the latencies are mostly queueing: the script prints the CPU the server used, out of the
machine's cores, and what other processes took meanwhile.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import random
import runpy
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench_api import machine_cpu, server_cpu

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
PG_URL = "postgres://postgres@127.0.0.1:5432/postgres"
#: gunicorn closes a keep-alive connection idle for 5 s (deploy/gunicorn.conf.py); a client that has
#: waited longer opens a new one, as HTTP clients do, rather than write into a closing socket.
IDLE = 3.0
#: What the server's closing of a kept-alive connection (a worker replaced after its max_requests) looks like
#: to the next request sent on it: a GET is then sent again, once, on a new connection, as HTTP clients do.
CLOSED = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)
#: The centres whose users are simulated: three in each of four countries (the demo's codes).
DRIVEN = ["IT-PD", "IT-MI", "IT-RM", "FR-PA", "FR-LY", "FR-MA", "DE-HA", "DE-MU", "DE-BE", "PL-WA", "PL-KR", "PL-GD"]
COORDINATORS = {"nc.italy": "IT", "nc.france": "FR"}
SEED_PER_CENTRE = 3  # in every one of the demo's 20 centres, driven or not
LOAD_SECONDS = 15.0
HEALTH_SECONDS = 3.0
REGISTER_SHARE = 0.5  # of the rounds in which a centre's user registers a case
WAIT = 120.0  # the longest a user waits for the other user of the centre before the run is declared stuck


# --- Setting up a registry (run in a child process, with the server's environment) ---------------


def setup(out: Path) -> None:
    """Migrate, load the dictionary, the demo's countries and centres, users and their tokens, a few cases."""
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from partner.accounts.models import ApiToken, Membership, Role
    from partner.cases.demo_reference import build_reference
    from partner.cases.services import create_case
    from partner.dictionary.loader import get_dictionary, load_bundled
    from partner.lib.pseudonym import Identity, pseudonym
    from partner.quality.receivers import deferred

    call_command("migrate", verbosity=0)
    load_bundled()
    d = get_dictionary()
    centres = build_reference()
    users = []
    for code in DRIVEN:
        for role, prefix in ((Role.DATA_MANAGER, "dm"), (Role.CLINICIAN, "clin")):
            user = get_user_model().objects.create_user(f"{prefix}.{code.lower()}", password=secrets.token_urlsafe())
            Membership.objects.create(user=user, role=role, centre=centres[code])
            users.append({"name": user.username, "centre": code, "country": code[:2], "token": _token(user)})
    User = get_user_model()
    for name, country in COORDINATORS.items():
        users.append(
            {"name": name, "centre": None, "country": country, "token": _token(User.objects.get(username=name))}
        )
    european = ApiToken.issue(User.objects.get(username="ec.europe"), "load")[1]
    seeded: dict[str, list[int]] = defaultdict(list)
    with deferred():  # quality control is measured by bench_quality, not here
        for n, (code, centre) in enumerate(sorted(centres.items())):
            for i in range(SEED_PER_CENTRE):
                born = f"201{i}-0{1 + n % 9}-1{i}"
                identity = Identity(f"Seed{n}x{i}", "Registry", _date(born), "female", centre.country.code)
                case = create_case(
                    dictionary=d,
                    centre=centre,
                    pseudonym=pseudonym(identity, settings.PSEUDONYM_KEY),
                    forms={
                        "registration": {"date_of_birth": born, "sex": "female"},
                        "diagnosis": {"diagnosis_date": "2024-02-10", "morphology": "8370/3", "topography": "C74.0"},
                    },
                    identity=identity,
                )
                seeded[code].append(case.pk)
    out.write_text(json.dumps({"users": users, "european": european, "cases": seeded}))


def _token(user: Any) -> str:
    from partner.accounts.models import ApiToken

    return ApiToken.issue(user, "load")[1]


def _date(text: str) -> Any:
    import datetime as dt

    return dt.date.fromisoformat(text)


# --- The server -------------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    workdir: Path
    env: dict[str, str]
    database: str | None = None  # the PostgreSQL database made for the run, dropped at the end


def environment(workdir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH", "DEBUG")}
    for name, variable in (
        ("secret_key", "SECRET_KEY_FILE"),
        ("pseudonym_key", "PARTNER_PSEUDONYM_KEY_FILE"),
        ("linkage_key", "PARTNER_LINKAGE_KEY_FILE"),
    ):
        (workdir / name).write_text(secrets.token_urlsafe(48))
        env[variable] = str(workdir / name)
    (workdir / "static").mkdir()
    env.update(
        DEBUG="false", PARTNER_VAR_DIR=str(workdir), ALLOWED_HOSTS=HOST, DJANGO_SETTINGS_MODULE="partner.settings"
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    else:  # the registry's SQLite options (WAL, busy timeout) come with SQLITE_PATH
        env["SQLITE_PATH"] = str(workdir / "registry.sqlite3")
    return env


def postgres_answers() -> bool:
    try:
        import psycopg

        psycopg.connect(PG_URL, connect_timeout=3).close()
        return True
    except Exception:
        return False


def admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as db:
        db.execute(sql)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def start_server(target: Target) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    log = target.workdir / "gunicorn.log"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            str(ROOT / "deploy" / "gunicorn.conf.py"),
            f"--bind={HOST}:{port}",
            "--access-logfile=/dev/null",
            f"--error-logfile={log}",
        ],
        env=target.env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn stopped at start:\n{log.read_text()}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                conn.close()
                return server, port
        except OSError:
            time.sleep(0.2)
    server.kill()
    sys.exit(f"gunicorn did not answer /health within 60 s:\n{log.read_text()}")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# --- The load ---------------------------------------------------------------------------------------


@dataclass
class User:
    name: str
    centre: str | None
    country: str
    token: str


@dataclass
class Write:
    case: int
    sent: int  # the version the write was made on
    returned: int
    value: str


@dataclass
class Run:
    """What every user saw; threads add to it under `lock`."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: Counter[str] = field(default_factory=Counter)  # 5xx and connection errors
    violations: list[str] = field(default_factory=list)  # scope leaks, lost or silent writes, odd answers
    writes: list[Write] = field(default_factory=list)
    races: Counter[str] = field(default_factory=Counter)
    resent: int = 0  # GETs sent again after the server closed a kept-alive connection
    centre_cases: dict[str, list[int]] = field(default_factory=dict)
    elapsed: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # seconds: server, load generator, whole machine

    def wrong(self, text: str) -> None:
        with self.lock:
            self.violations.append(text)

    @property
    def count(self) -> int:
        return sum(len(v) for v in self.latencies.values())

    def all_latencies(self) -> list[float]:
        return [x for v in self.latencies.values() for x in v]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else math.nan


def exchange(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    body: str | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, bytes, int]:
    """One request: its status, its body, and 1 if it was a GET sent again (see CLOSED), else 0."""
    for attempt in (0, 1):
        fresh = conn.sock is None
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, response.read(), attempt
        except CLOSED:
            conn.close()
            if attempt or fresh or method != "GET":
                raise
    raise AssertionError("not reached")


class Client:
    """One user's keep-alive connection; every answer timed and filed under its kind."""

    def __init__(self, port: int, user: User, run: Run) -> None:
        self.port, self.user, self.run = port, user, run
        self.headers = {"Authorization": f"Bearer {user.token}", "Content-Type": "application/json"}
        self.conn = http.client.HTTPConnection(HOST, port, timeout=60)
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.used = time.perf_counter()

    def call(self, kind: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body)
        started = time.perf_counter()
        if started - self.used > IDLE:
            self.conn.close()
        try:
            status, raw, resent = exchange(self.conn, method, path, data, self.headers)
            self.used = time.perf_counter()
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            with self.run.lock:
                self.run.failures[f"{kind}: {type(exc).__name__}: {exc}"] += 1
            return 0, None
        self.latencies[kind].append(time.perf_counter() - started)
        with self.run.lock:
            self.run.resent += resent
            if status >= 500:
                self.run.failures[f"{kind}: HTTP {status}"] += 1
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw[:200]

    def expect(self, kind: str, method: str, path: str, status: int, body: Any = None) -> Any:
        got, answer = self.call(kind, method, path, body)
        if got != status and got < 500 and got != 0:
            self.run.wrong(f"{self.user.name}: {method} {path} answered {got}, not {status}: {str(answer)[:160]}")
        return answer if got == status else None

    def in_scope(self, case: dict[str, Any], where: str) -> bool:
        mine = case.get("centre") == self.user.centre if self.user.centre else case.get("country") == self.user.country
        if not mine:
            scope = self.user.centre or self.user.country
            self.run.wrong(f"{self.user.name} ({scope}) got case {case.get('id')} of {case.get('centre')} in {where}")
        return mine

    def close(self) -> None:
        self.conn.close()
        with self.run.lock:
            for kind, values in self.latencies.items():
                self.run.latencies[kind] += values


class Pair:
    """The two users of one centre: they go round by round together, and race once a round."""

    def __init__(self, centre: str, stop: float, run: Run, seed: int) -> None:
        self.centre, self.stop, self.run = centre, stop, run
        self.random = random.Random(seed)
        self.go = True
        self.target = 0
        self.results: dict[int, tuple[int, Any, str, int]] = {}
        self.round = threading.Barrier(2, action=self._next_round, timeout=WAIT)
        self.step = threading.Barrier(2, timeout=WAIT)
        self.judge = threading.Barrier(2, action=self._judge, timeout=WAIT)

    def abort(self) -> None:
        for barrier in (self.round, self.step, self.judge):
            barrier.abort()

    def _next_round(self) -> None:
        self.go = time.perf_counter() < self.stop
        with self.run.lock:
            self.target = self.random.choice(self.run.centre_cases[self.centre])
        self.results = {}

    def _judge(self) -> None:
        statuses = sorted(status for status, _body, _value, _version in self.results.values())
        if 0 in statuses or any(s >= 500 for s in statuses):
            return  # counted as a failure already
        versions = {version for _status, _body, _value, version in self.results.values()}
        if len(versions) != 1:
            self.run.wrong(f"race on case {self.target}: the two users read versions {sorted(versions)}")
            return
        with self.run.lock:
            self.run.races[" and ".join(map(str, statuses))] += 1
        if statuses != [200, 409]:
            self.run.wrong(f"race on case {self.target} ended {statuses}, not one 200 and one 409")
            return
        winner = next(value for status, _b, value, _v in self.results.values() if status == 200)
        loser = next(body for status, body, _v, _ver in self.results.values() if status == 409)
        shown = ((loser or {}).get("current") or {}).get("values", {}).get("stage_group")
        if shown != winner:
            self.run.wrong(f"race on case {self.target}: the 409 showed {shown!r}, the winner wrote {winner!r}")


def diagnosis(detail: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in detail["records"] if r["form"] == "diagnosis" and r["number"] == 1)


def new_case(user: User, n: int, r: random.Random) -> dict[str, Any]:
    letters = "".join(r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(8))
    acc = r.random() < 0.5
    return {
        "identity": {
            "given_names": f"Load {letters}",
            "family_names": f"{user.name.replace('.', ' ')} {n}",
            "date_of_birth": f"201{r.randrange(0, 9)}-0{r.randrange(1, 10)}-{r.randrange(10, 29)}",
            "sex": r.choice(["female", "male"]),
            "country_of_birth": user.country,
        },
        "forms": {
            "diagnosis": {
                "diagnosis_date": "2024-02-10",
                "morphology": "8370/3" if acc else "8720/3",
                "topography": "C74.0" if acc else "C44.5",
            }
        },
    }


def write_diagnosis(client: Client, kind: str, case_id: int, detail: dict[str, Any], value: str) -> tuple[int, Any]:
    record = diagnosis(detail)
    values = {**record["values"], "stage_system": "other", "stage_group": value}
    path = f"/api/cases/{case_id}/records/diagnosis/1"
    status, body = client.call(kind, "PATCH", path, {"version": record["version"], "values": values})
    if status == 200:
        with client.run.lock:
            client.run.writes.append(Write(case_id, record["version"], body["version"], value))
    return status, body


def centre_user(client: Client, pair: Pair, side: int, foreign: list[int], seed: int) -> None:
    r = random.Random(seed)
    user, run = client.user, client.run
    mine: list[int] = []
    n = 0
    while True:
        pair.round.wait()
        if not pair.go:
            return
        n += 1
        if not mine or r.random() < REGISTER_SHARE:
            case = client.expect("register", "POST", "/api/cases", 201, new_case(user, n, r))
            if case and client.in_scope(case, "a registration"):
                mine.append(case["id"])
                with run.lock:
                    run.centre_cases[pair.centre].append(case["id"])
        with run.lock:
            known = len(run.centre_cases[pair.centre])
            some = r.choice(run.centre_cases[pair.centre])
        listed = client.expect("list", "GET", f"/api/cases?limit=20&offset={r.randrange(max(1, known - 19))}", 200)
        for case in (listed or {}).get("items", []):
            client.in_scope(case, "the list")
        detail = client.expect("read", "GET", f"/api/cases/{some}", 200)
        if detail:
            client.in_scope(detail, "a case read")
        if mine:
            own = r.choice(mine)
            detail = client.expect("read", "GET", f"/api/cases/{own}", 200)
            if detail and client.in_scope(detail, "a case read"):
                status, body = write_diagnosis(client, "update", own, detail, f"{user.name[:8]}-{n}")
                if status not in (0, 200) and status < 500:
                    run.wrong(f"{user.name}: an update of their own case {own} answered {status}: {str(body)[:160]}")
        other = r.choice(foreign)
        if r.random() < 0.5:
            client.expect("probe", "GET", f"/api/cases/{other}", 404)
        else:
            client.expect(
                "probe", "PATCH", f"/api/cases/{other}/records/diagnosis/1", 404, {"version": 1, "values": {}}
            )

        pair.step.wait()
        detail = client.expect("read", "GET", f"/api/cases/{pair.target}", 200)
        read = detail is not None and client.in_scope(detail, "a case read")
        pair.step.wait()  # both have read the record: now both write it
        value = f"race-{side}-{n}-{pair.target}"[:20]
        if read:
            status, body = write_diagnosis(client, "race", pair.target, detail, value)
            pair.results[side] = (status, body, value, diagnosis(detail)["version"])
        else:
            pair.results[side] = (0, None, value, -1)
        pair.judge.wait()


def guarded(work: Any, client: Client, pair: Pair | None, *args: Any) -> None:
    """A user's thread: an unexpected answer ends it with a violation, and frees the other user of the centre."""
    try:
        work(client, *(() if pair is None else (pair,)), *args)
    except threading.BrokenBarrierError:
        client.run.wrong(f"{client.user.name}: the other user of the centre stopped")
    except Exception as exc:
        client.run.wrong(f"{client.user.name}: {type(exc).__name__}: {exc}")
        if pair is not None:
            pair.abort()


def coordinator(client: Client, cases: dict[str, list[int]], stop: float, seed: int) -> None:
    r = random.Random(seed)
    own = [i for code, ids in cases.items() if code.startswith(client.user.country) for i in ids]
    others = [i for code, ids in cases.items() if not code.startswith(client.user.country) for i in ids]
    while time.perf_counter() < stop:
        listed = client.expect("list", "GET", f"/api/cases?limit=20&offset={r.randrange(len(own))}", 200)
        for case in (listed or {}).get("items", []):
            client.in_scope(case, "the list")
        detail = client.expect("read", "GET", f"/api/cases/{r.choice(own)}", 200)
        if detail:
            client.in_scope(detail, "a case read")
        client.expect("probe", "GET", f"/api/cases/{r.choice(others)}", 404)


def load(port: int, server_pid: int, users: list[User], cases: dict[str, list[int]]) -> Run:
    run = Run(centre_cases={code: list(ids) for code, ids in cases.items()})
    clients = [Client(port, u, run) for u in users]
    for c in clients:  # warm-up, not counted: every worker has answered a query before the clock starts
        c.call("warm-up", "GET", "/api/cases?limit=1")
        c.latencies.clear()
    started = time.perf_counter()
    stop = started + LOAD_SECONDS
    threads = []
    by_centre: dict[str, list[Client]] = defaultdict(list)
    for c in clients:
        if c.user.centre:
            by_centre[c.user.centre].append(c)
        else:
            threads.append(threading.Thread(target=guarded, args=(coordinator, c, None, cases, stop, len(threads))))
    for i, (code, pair_clients) in enumerate(sorted(by_centre.items())):
        pair = Pair(code, stop, run, seed=i)
        foreign = [case for other, ids in cases.items() if other != code for case in ids]
        for side, c in enumerate(pair_clients):
            threads.append(threading.Thread(target=guarded, args=(centre_user, c, pair, side, foreign, 100 * i + side)))
    cpu0 = {"server": server_cpu(server_pid), "client": time.process_time(), "machine": machine_cpu()}
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run.elapsed = time.perf_counter() - started
    run.cpu = {
        "server": server_cpu(server_pid) - cpu0["server"],
        "client": time.process_time() - cpu0["client"],
        "machine": machine_cpu() - cpu0["machine"],
    }
    for c in clients:
        c.close()
    return run


def health(port: int, connections: int) -> tuple[float, list[float], Counter[str]]:
    latencies: list[float] = []
    failures: Counter[str] = Counter()
    lock = threading.Lock()
    stop = time.perf_counter() + HEALTH_SECONDS

    def client() -> None:
        conn = http.client.HTTPConnection(HOST, port, timeout=60)
        mine = []
        while (sent := time.perf_counter()) < stop:
            try:
                status, _body, resent = exchange(conn, "GET", "/health")
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    failures[f"/health: {type(exc).__name__}"] += 1
                conn.close()
                continue
            if resent:
                with lock:
                    failures["resent"] += 1
            if status != 200:
                with lock:
                    failures[f"/health: HTTP {status}"] += 1
                continue
            mine.append(time.perf_counter() - sent)
        conn.close()
        with lock:
            latencies.extend(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started, latencies, failures


def check_final_state(port: int, european: str, run: Run) -> None:
    """No lost update: each record holds the last accepted write, and each accepted write began at its own version."""
    by_case: dict[int, list[Write]] = defaultdict(list)
    for w in run.writes:
        by_case[w.case].append(w)
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    for case_id, writes in sorted(by_case.items()):
        sent = [w.sent for w in writes]
        if len(set(sent)) != len(sent):
            run.violations.append(f"case {case_id}: two writes were accepted on the same version {sorted(sent)}")
        if any(w.returned != w.sent + 1 for w in writes):
            run.violations.append(f"case {case_id}: a write did not move the version on by one")
        conn.request("GET", f"/api/cases/{case_id}", headers={"Authorization": f"Bearer {european}"})
        response = conn.getresponse()
        record = diagnosis(json.loads(response.read()))
        last = max(writes, key=lambda w: w.returned)
        if record["version"] != last.returned or record["values"].get("stage_group") != last.value:
            run.violations.append(
                f"case {case_id}: holds version {record['version']} {record['values'].get('stage_group')!r}, "
                f"the last accepted write was version {last.returned} {last.value!r}"
            )
    conn.close()


# --- The run ----------------------------------------------------------------------------------------


def prepare(targets: list[Target]) -> dict[str, dict[str, Any]]:
    """Set every registry up at once (each is a child process), and read what each made."""
    started = time.perf_counter()
    children = []
    for t in targets:
        out = t.workdir / "setup.json"
        log = (t.workdir / "setup.log").open("w")
        child = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--setup", str(out)],
            env=t.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        children.append((t, child, out))
    made = {}
    for t, child, out in children:
        if child.wait() != 0:
            sys.exit(f"setting up the {t.name} registry failed:\n{(t.workdir / 'setup.log').read_text()[-3000:]}")
        made[t.name] = json.loads(out.read_text())
    print(f"registries set up in {time.perf_counter() - started:.0f} s: {', '.join(t.name for t in targets)}")
    return made


def report(target: Target, run: Run, health_figures: tuple[float, list[float], Counter[str]], log: str) -> bool:
    everything = run.all_latencies()
    rate = run.count / run.elapsed
    p50, p95 = percentile(everything, 50), percentile(everything, 95)
    cores = os.cpu_count() or 1
    other = (run.cpu["machine"] - run.cpu["server"] - run.cpu["client"]) / run.elapsed
    print(
        f"{target.name}: {rate:,.1f} requests/s, p50 {p50 * 1000:,.0f} ms, p95 {p95 * 1000:,.0f} ms "
        f"({run.count:,} requests in {run.elapsed:.0f} s; CPU in cores of {cores}: server "
        f"{run.cpu['server'] / run.elapsed:.2f}, load generator {run.cpu['client'] / run.elapsed:.2f}, "
        f"other processes {other:.2f})"
    )
    for kind in ("register", "list", "read", "update", "race", "probe"):
        values = run.latencies.get(kind, [])
        if values:
            print(
                f"  {kind:9} {len(values):6,}  p50 {percentile(values, 50) * 1000:7,.0f} ms  "
                f"p95 {percentile(values, 95) * 1000:7,.0f} ms"
            )
    races = sum(run.races.values())
    outcomes = ", ".join(f"{n} x {k}" for k, n in run.races.most_common())
    print(f"  races of two users on one record: {races} ({outcomes}); {len(run.writes)} writes accepted")
    seconds, latencies, failures = health_figures
    peer_rate = len(latencies) / seconds
    peer95 = percentile(latencies, 95)
    print(
        f"  peer GET /health: {peer_rate:,.0f} requests/s, p50 {percentile(latencies, 50) * 1000:.1f} ms, "
        f"p95 {peer95 * 1000:.1f} ms"
    )
    print(
        f"  ratio: the registry's mix runs at {rate / peer_rate:.3f}x the throughput of /health, "
        f"its p95 is {p95 / peer95:,.0f}x"
    )
    resent = run.resent + failures.pop("resent", 0)
    failed = sum(run.failures.values()) + sum(failures.values())
    print(
        f"  5xx or connection errors: {failed}; scope leaks, lost or silent updates, odd answers: {len(run.violations)}"
    )
    for outcome, n in [*run.failures.most_common(5), *failures.most_common(3)]:
        print(f"    {n:,} x {outcome}")
    for text in run.violations[:10]:
        print(f"    {text}")
    # A worker that died (timeout, out of memory, a crash) is an error in gunicorn's log; one replaced
    # after its max_requests is not, and the GETs its closed connections turned away were sent again.
    died = [line for line in log.splitlines() if "[ERROR]" in line or "[CRITICAL]" in line]
    recycled = log.count("Autorestarting worker")
    print(
        f"  gunicorn: {recycled} workers replaced after their max_requests ({resent} GETs sent again on a new "
        f"connection), {len(died)} errors logged"
    )
    for line in died[:5]:
        print(f"    {line}")
    good = failed == 0 and not run.violations and races > 0 and not died
    print(f"  goal: every check passes: {'met' if good else 'NOT met'}")
    return good


def main() -> None:
    base = Path(tempfile.mkdtemp(prefix="partner-bench-load-"))
    targets = []
    try:
        sqlite = base / "sqlite"
        sqlite.mkdir()
        targets.append(Target("SQLite", sqlite, environment(sqlite, None)))
        if postgres_answers():
            name = f"partner_bench_load_{secrets.token_hex(4)}"
            admin(f"CREATE DATABASE {name}")
            folder = base / "postgresql"
            folder.mkdir()
            url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
            targets.append(Target("PostgreSQL", folder, environment(folder, url), database=name))
        else:
            print(f"PostgreSQL does not answer at {PG_URL}: SQLite only")
        made = prepare(targets)
        good = True
        for target in targets:
            setup_made = made[target.name]
            users = [User(u["name"], u["centre"], u["country"], u["token"]) for u in setup_made["users"]]
            cases = {code: ids for code, ids in setup_made["cases"].items()}
            server, port = start_server(target)
            try:
                if target is targets[0]:
                    config = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
                    print(
                        f"gunicorn with deploy/gunicorn.conf.py ({config['workers']} {config['worker_class']} "
                        f"workers x {config['threads']} threads) on loopback; {len(users)} users on their own "
                        f"connections ({len(DRIVEN)} centres in 4 countries, 2 national coordinators), "
                        f"{LOAD_SECONDS:.0f} s of load, then {HEALTH_SECONDS:.0f} s of the peer"
                    )
                run = load(port, server.pid, users, cases)
                check_final_state(port, setup_made["european"], run)
                peer = health(port, len(users))
            finally:
                stop_server(server)
            good = report(target, run, peer, (target.workdir / "gunicorn.log").read_text()) and good
        if not good:
            sys.exit("the registry broke a check under load (above)")
    finally:
        for target in targets:
            if target.database:
                admin(f"DROP DATABASE IF EXISTS {target.database} WITH (FORCE)")
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--setup"]:
        setup(Path(sys.argv[2]))
    else:
        main()
