"""Every page of the demo registry, as each role sees it: how long each takes to answer.

Figure: per role, the p95 of each page's response time and the share of pages answered in under
300 ms at the 95th percentile, over the demo registry of `make run` (600 patients, seed 1, linkage
and quality runs done) served by gunicorn (deploy/gunicorn.conf.py, 2 workers, DEBUG off). Each demo
user logs in (coordinators with their second factor) and the pages are found as a user would find
them: from /work/ (the visitor from /), following the same-site links of the menus and pages, GET
only, leaving out downloads, exports, the admin, the API (but its documentation) and jobs. Pages
are told apart by their URL pattern: a few examples of each (three cases, not 600), at most 60 pages
a role. Each page is then fetched --repeat times, in rounds over the role's pages, one request at a
time on a keep-alive connection; the wall time covers the whole response body. The first fetch,
the one that found the page, warms it up and is not counted. Percentiles are nearest-rank, as in the
other benches: with 10 requests a page, a page's p95 is its slowest answer.
Peer, measured in the same run on the same server: `GET /health`, a view that touches no database,
so the ratio is the price of a registry page over the server's floor.

    python bench/bench_pages.py [--repeat 10] [--json pages.json] [--keep DIR] [--database-url URL]

--keep builds the registry in DIR once and reuses it in later runs (the build takes minutes).
"""

from __future__ import annotations

import argparse
import heapq
import http.client
import json
import math
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from bench_api import machine_cpu, server_cpu
from bench_load import free_port

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
PASSWORD = "demo-registry-2026"
ROLES = ["dm.padova", "clinician.padova", "nc.italy", "ec.europe", "expert.acc", "researcher", "visitor"]
MAX_PAGES = 60
EXAMPLES = 3  # pages kept of one URL pattern
SLOWEST = 15
GOAL_MS = 300.0
HEALTH_REQUESTS = 200
SKIP_PREFIXES = (
    "/admin/",
    "/jobs/",
    "/static/",
    "/media/",
    "/i18n/",
    "/accounts/login/",
    "/accounts/logout/",
    "/accounts/second-factor/",
)
DOWNLOADS = (".csv", ".pdf", ".zip", ".xlsx", ".json", ".png", ".svg")
BUILD = [
    ["migrate", "--no-input"],
    ["dictionary", "load"],
    ["demo", "--patients", "600", "--seed", "1", "--if-empty"],
    ["link", "run"],
    ["qc", "run"],
]


# --- The registry and its server ------------------------------------------------------------------


def environment(folder: Path, database_url: str | None, debug: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH", "DEBUG")}
    for name, variable in (
        ("secret_key", "SECRET_KEY_FILE"),
        ("pseudonym_key", "PARTNER_PSEUDONYM_KEY_FILE"),
        ("linkage_key", "PARTNER_LINKAGE_KEY_FILE"),
    ):
        if not (folder / name).exists():
            (folder / name).write_text(secrets.token_urlsafe(48))
        env[variable] = str(folder / name)
    (folder / "static").mkdir(exist_ok=True)
    env.update(
        DEBUG="true" if debug else "false",
        PARTNER_VAR_DIR=str(folder),
        DATABASE_URL=database_url or f"sqlite:///{folder / 'registry.sqlite3'}",
        ALLOWED_HOSTS=HOST,
        DJANGO_SETTINGS_MODULE="partner.settings",
    )
    return env


def build(folder: Path, database_url: str | None) -> None:
    """The steps of `make run`, once per folder: a later run with --keep finds the mark and reuses it."""
    mark = folder / "built"
    env = environment(folder, database_url, debug=True)
    steps = BUILD
    if mark.exists() and mark.read_text() == (database_url or "sqlite"):
        print(f"registry reused from {folder}, migrated to the code's schema")
        steps = BUILD[:1]
    for step in steps:
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "partner.cli", *step], env=env, cwd=ROOT, capture_output=True, text=True
        )
        if done.returncode:
            sys.exit(f"partner {' '.join(step)} failed:\n{done.stdout}{done.stderr}")
        print(f"  partner {' '.join(step)}: {time.perf_counter() - started:.0f} s", flush=True)
    mark.write_text(database_url or "sqlite")


def second_factors(out: Path) -> None:
    """Run in a child with the registry's environment: a confirmed authenticator for each coordinator."""
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from partner.accounts.security import needs_second_factor

    keys = {}
    for user in get_user_model().objects.filter(username__in=ROLES):
        if needs_second_factor(user):
            device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench", defaults={"confirmed": True})
            # A rerun within the same 30 s step must not be refused as a code used twice.
            TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0)
            keys[user.username] = {"key": device.key, "step": device.step, "t0": device.t0, "digits": device.digits}
    out.write_text(json.dumps(keys))


def start_server(folder: Path, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    log = folder / "gunicorn.log"
    log.write_text("")
    # No worker is replaced during the run (max_requests 0): a fresh worker's first pages would be timed cold.
    options = [f"--bind={HOST}:{port}", "--workers=2", "--max-requests=0", "--access-logfile=/dev/null"]
    options.append(f"--error-logfile={log}")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", str(ROOT / "deploy" / "gunicorn.conf.py"), *options],
        env=env,
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


# --- A browser of sorts ----------------------------------------------------------------------------


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.inputs: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a" and values.get("href") and "download" not in values:
            self.hrefs.append(values["href"] or "")
        if tag == "input" and values.get("name"):
            self.inputs[values["name"] or ""] = values.get("value") or ""


@dataclass
class Answer:
    status: int
    body: bytes
    headers: http.client.HTTPMessage
    seconds: float


class Browser:
    """One user's keep-alive connection and cookies (kept by hand: the cookies are Secure, the server is http)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection(HOST, port, timeout=120)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Answer:
        headers = {"Host": HOST}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers |= {"Content-Type": "application/x-www-form-urlencoded", "Referer": f"http://{HOST}{path}"}
        for attempt in (0, 1):
            started = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.conn.close()  # gunicorn closes a connection idle for 5 s: sent again on a new one
                if attempt:
                    raise
        seconds = time.perf_counter() - started
        for line in response.msg.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(line).items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return Answer(response.status, data, response.msg, seconds)

    def log_in(self, username: str, device: dict[str, Any] | None) -> None:
        page = Links()
        page.feed(self.request("GET", "/accounts/login/").body.decode())
        form = {"csrfmiddlewaretoken": page.inputs["csrfmiddlewaretoken"], "username": username, "password": PASSWORD}
        answer = self.request("POST", "/accounts/login/", form)
        if answer.status != 302:
            sys.exit(f"{username} could not log in: HTTP {answer.status}")
        if device is None:
            return
        from django_otp.oath import totp

        page = Links()
        page.feed(self.request("GET", "/accounts/second-factor/?next=/work/").body.decode())
        code = totp(bytes.fromhex(device["key"]), step=device["step"], t0=device["t0"], digits=device["digits"])
        form = {"csrfmiddlewaretoken": page.inputs["csrfmiddlewaretoken"], "token": f"{code:06d}", "next": "/work/"}
        answer = self.request("POST", "/accounts/second-factor/", form)
        if answer.status != 302:
            sys.exit(f"{username}'s second factor was refused: HTTP {answer.status}")


# --- Finding the pages -----------------------------------------------------------------------------


@dataclass
class Page:
    path: str
    pattern: str
    times: list[float] = field(default_factory=list)

    def percentile(self, p: float) -> float:
        return percentile(self.times, p)


@dataclass
class Role:
    name: str
    pages: list[Page] = field(default_factory=list)
    refused: list[tuple[str, int]] = field(default_factory=list)  # links answered with neither 200 nor a redirect
    failed: list[tuple[str, int]] = field(default_factory=list)  # 5xx, listed apart

    def times(self) -> list[float]:
        return [t for page in self.pages for t in page.times]

    def fast_share(self) -> float:
        return sum(p.percentile(95) * 1000 < GOAL_MS for p in self.pages) / len(self.pages) if self.pages else math.nan


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else math.nan


def followed(href: str, base: str) -> str | None:
    """The same-site path a link leads to, or None for a link the bench leaves alone."""
    url = urlsplit(urljoin(f"http://{HOST}{base}", href))
    if url.scheme not in ("http", "https") or url.hostname not in (HOST, "localhost", "testserver"):
        return None
    path = url.path + (f"?{url.query}" if url.query else "")
    lowered = path.lower()
    if path.startswith(SKIP_PREFIXES) or "/download" in lowered or "_export=" in lowered:
        return None
    if url.path.lower().endswith(DOWNLOADS) or (path.startswith("/api/") and not path.startswith("/api/docs")):
        return None
    return path


def pattern_of(path: str) -> str:
    from django.urls import Resolver404, resolve

    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return f"(unresolved) {urlsplit(path).path}"
    return match.view_name or match.route


def discover(browser: Browser, role: Role, start: str, limit: int) -> None:
    """Breadth first, the first example of each URL pattern before any second one, until `limit` pages."""
    queue: list[tuple[int, int, str]] = [(0, 0, start)]
    seen, examples, order = {start}, {pattern_of(start): 1}, 1
    while queue and len(role.pages) < limit:
        _, _, path = heapq.heappop(queue)
        answer = browser.request("GET", path)
        if answer.status in (301, 302, 303, 307, 308):
            links = [answer.headers.get("Location", "")]
        elif answer.status != 200:
            (role.failed if answer.status >= 500 else role.refused).append((path, answer.status))
            continue
        elif not (answer.headers.get("Content-Type") or "").startswith("text/html") or "attachment" in (
            answer.headers.get("Content-Disposition") or ""
        ):
            continue
        else:
            role.pages.append(Page(path, pattern_of(path)))
            parser = Links()
            parser.feed(answer.body.decode(errors="replace"))
            links = parser.hrefs
        for href in links:
            target = followed(href, path)
            if target is None or target in seen:
                continue
            pattern = pattern_of(target)
            rank = examples.get(pattern, 0)
            if rank < EXAMPLES:
                seen.add(target)
                examples[pattern] = rank + 1
                heapq.heappush(queue, (rank, order, target))
                order += 1


def measure(browser: Browser, role: Role, repeat: int) -> None:
    for _ in range(repeat):
        for page in role.pages:
            answer = browser.request("GET", page.path)
            if answer.status != 200:
                role.failed.append((page.path, answer.status))
            page.times.append(answer.seconds)


# --- The run ---------------------------------------------------------------------------------------


def report(role: Role) -> None:
    all_times = role.times()
    print(
        f"\n{role.name}: {len(role.pages)} pages ({len({p.pattern for p in role.pages})} URL patterns), "
        f"p95 over all its requests {percentile(all_times, 95) * 1000:.0f} ms, "
        f"{role.fast_share():.0%} of pages with p95 < {GOAL_MS:.0f} ms"
    )
    slowest = sorted(role.pages, key=lambda p: p.percentile(95), reverse=True)[:SLOWEST]
    print(f"  {'URL pattern':<34} {'example':<46} {'p50 ms':>7} {'p95 ms':>7}")
    for page in slowest:
        example = page.path if len(page.path) <= 46 else page.path[:45] + "…"
        print(
            f"  {page.pattern[:34]:<34} {example:<46} "
            f"{page.percentile(50) * 1000:>7.0f} {page.percentile(95) * 1000:>7.0f}"
        )
    for label, items in (("answered 5xx", role.failed), ("refused (4xx)", role.refused)):
        if items:
            shown = ", ".join(f"{path} ({status})" for path, status in sorted(set(items))[:8])
            print(f"  {len(set(items))} links {label}: {shown}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=10, help="timed requests of each page (default 10)")
    parser.add_argument("--json", type=Path, help="write every page's timings to this file")
    parser.add_argument("--keep", type=Path, help="build the registry in this folder once and keep it")
    parser.add_argument("--database-url", help="a PostgreSQL database to build the registry in (else SQLite)")
    parser.add_argument("--max-pages", type=int, default=MAX_PAGES, help="pages per role (default 60)")
    parser.add_argument("--roles", nargs="+", default=ROLES, choices=ROLES, metavar="ROLE")
    args = parser.parse_args()

    folder = args.keep or Path(tempfile.mkdtemp(prefix="partner-bench-pages-"))
    folder.mkdir(parents=True, exist_ok=True)
    server = None
    try:
        print(f"load average before the build: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        build(folder, args.database_url)
        env = environment(folder, args.database_url, debug=False)
        child = [sys.executable, __file__, "--second-factors", str(folder / "otp.json")]
        done = subprocess.run(child, env=env, capture_output=True, text=True)
        if done.returncode:
            sys.exit(f"giving the coordinators an authenticator failed:\n{done.stderr}")
        devices = json.loads((folder / "otp.json").read_text())
        os.environ.update(env)  # resolve() reads the registry's URL configuration
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        server, port = start_server(folder, env)
        print(
            f"gunicorn, deploy/gunicorn.conf.py with 2 workers, DEBUG off, "
            f"{'PostgreSQL' if args.database_url else 'SQLite'}; each page {args.repeat} times, one request at a time"
        )
        roles: list[Role] = []
        cpu = {"server": server_cpu(server.pid), "machine": machine_cpu(), "client": time.process_time()}
        started = time.perf_counter()
        for name in args.roles:
            role, browser = Role(name), Browser(port)
            if name != "visitor":
                browser.log_in(name, devices.get(name))
            discover(browser, role, "/" if name == "visitor" else "/work/", args.max_pages)
            measure(browser, role, args.repeat)
            roles.append(role)
            report(role)
        elapsed = time.perf_counter() - started
        server_used = server_cpu(server.pid) - cpu["server"]
        client_used = time.process_time() - cpu["client"]
        others = (machine_cpu() - cpu["machine"] - server_used - client_used) / elapsed

        health = Browser(port)
        health_times = [health.request("GET", "/health").seconds for _ in range(HEALTH_REQUESTS)]
        pages = [p for r in roles for p in r.pages]
        everything = [t for r in roles for t in r.times()]
        overall, peer = percentile(everything, 95), percentile(health_times, 95)
        fast = sum(p.percentile(95) * 1000 < GOAL_MS for p in pages) / len(pages)
        print(
            f"\nall roles: {len(pages)} pages, {len(everything):,} timed requests in {elapsed:.0f} s; "
            f"p50 {percentile(everything, 50) * 1000:.0f} ms, p95 {overall * 1000:.0f} ms; "
            f"{fast:.0%} of pages with p95 < {GOAL_MS:.0f} ms"
        )
        print(
            f"peer GET /health ({HEALTH_REQUESTS} requests): p50 {percentile(health_times, 50) * 1000:.1f} ms, "
            f"p95 {peer * 1000:.1f} ms; ratio: the pages' p95 is {overall / peer:.0f}x the trivial view's"
        )
        print(
            f"CPU in cores meanwhile: server {server_used / elapsed:.2f}, this script {client_used / elapsed:.2f}, "
            f"other processes {others:.2f} (of {os.cpu_count()}); load average after: "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
        failures = sorted({item for r in roles for item in r.failed})
        if args.json:
            args.json.write_text(json.dumps(results(args, roles, health_times, others), indent=1))
            print(f"every page's timings written to {args.json}")
        if failures:
            sys.exit(f"{len(failures)} pages answered an error: " + ", ".join(f"{p} ({s})" for p, s in failures))
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def results(args: argparse.Namespace, roles: list[Role], health: list[float], others: float) -> dict[str, Any]:
    def ms(values: list[float]) -> list[float]:
        return [round(v * 1000, 2) for v in values]

    return {
        "database": "postgresql" if args.database_url else "sqlite",
        "repeat": args.repeat,
        "other_processes_cores": round(others, 2),
        "health_ms": ms(health),
        "roles": {
            role.name: {
                "pages": [
                    {
                        "pattern": p.pattern,
                        "path": p.path,
                        "p50_ms": round(p.percentile(50) * 1000, 1),
                        "p95_ms": round(p.percentile(95) * 1000, 1),
                        "times_ms": ms(p.times),
                    }
                    for p in role.pages
                ],
                "failed": sorted(set(role.failed)),
                "refused": sorted(set(role.refused)),
            }
            for role in roles
        },
    }


if __name__ == "__main__":
    if sys.argv[1:2] == ["--second-factors"]:
        second_factors(Path(sys.argv[2]))
    else:
        main()
