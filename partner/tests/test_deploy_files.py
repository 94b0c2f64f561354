"""The deployment's files (deploy/, docs/deploy.md) do what they say, and agree with each other and the code.

gunicorn's configuration loads and serves the registry; the environment example names every variable
the registry reads and passes Django's deployment check; the systemd units parse and run commands
that exist; nginx's configuration proxies to gunicorn's socket, serves STATIC_ROOT and lets the
largest upload through (and passes `nginx -t` where nginx is installed).
"""

from __future__ import annotations

import ast
import configparser
import datetime as dt
import http.client
import json
import os
import re
import runpy
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BIN = Path(sys.executable).parent
INSTALLED = "/opt/partner"  # where docs/deploy.md puts the checkout; its virtual environment is .venv
SECRETS = ("SECRET_KEY_FILE", "PARTNER_PSEUDONYM_KEY_FILE", "PARTNER_LINKAGE_KEY_FILE")
UNITS = sorted([*DEPLOY.glob("*.service"), *DEPLOY.glob("*.timer")])
ASSIGNMENT = re.compile(r"^(#?)([A-Z][A-Z0-9_]*)=(.*)$")
ENV_READERS = {"envbool", "envint", "envlist", "secret_from_file", "getenv"}
#: What a path with a %0A in it would write as a log line of its own, were it not escaped.
FORGED = '127.0.0.1 "GET /admin/ HTTP/1.1" 200 0 1ms "curl"'
FORGED_QUOTED = FORGED.replace('"', '\\"')  # as gunicorn writes it: it escapes quotes itself


# --- The environment --------------------------------------------------------------------------------


def env_example() -> tuple[dict[str, str], set[str]]:
    """The example's settings (`NAME=value`) and every name it shows, optional ones (`#NAME=default`) too."""
    active, names = {}, set()
    for line in (DEPLOY / "partner.env.example").read_text().splitlines():
        match = ASSIGNMENT.match(line)
        if match:
            names.add(match[2])
            if not match[1]:
                active[match[2]] = match[3]
    return active, names


def variables_read_by(path: Path) -> set[str]:
    """Names of environment variables a module reads: os.environ[...] / .get, os.getenv, partner.lib.env's readers."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        name: ast.expr | None = None
        if isinstance(node, ast.Subscript) and ast.unparse(node.value) == "os.environ":
            name = node.slice
        elif isinstance(node, ast.Call) and node.args:
            called = ast.unparse(node.func)
            if called == "os.environ.get" or called.split(".")[-1] in ENV_READERS:
                name = node.args[0]
        if isinstance(name, ast.Constant) and isinstance(name.value, str):
            names.add(name.value)
    return names


def test_the_env_example_names_exactly_the_variables_the_registry_reads() -> None:
    settings_reads = variables_read_by(ROOT / "partner" / "settings.py")
    elsewhere = set()
    for path in (ROOT / "partner").rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts or path.name.startswith("testing"):
            continue  # the test suite's own environment
        if path.name != "settings.py":
            elsewhere |= variables_read_by(path)
    _active, names = env_example()
    # The parse sees what it must: the helpers' calls in settings.py, a command's default.
    assert {"SECRET_KEY_FILE", "PARTNER_MIN_CELL_COUNT", "DATABASE_URL", "EMAIL_PORT"} <= settings_reads
    assert "PARTNER_HUB_TOKEN_FILE" in elsewhere
    assert sorted(settings_reads - names) == [], "read by settings.py, missing from deploy/partner.env.example"
    assert sorted(names - settings_reads - elsewhere) == [], "in deploy/partner.env.example, read by nothing"
    assert sorted(elsewhere - names) == [], "read by the registry, missing from deploy/partner.env.example"


def production_environment(tmp_path: Path, values: dict[str, str]) -> dict[str, str]:
    """The values given, with real secret files and the registry's folders under tmp_path."""
    env = {"PATH": os.environ["PATH"], "LANG": "C.UTF-8", **values}
    for name in SECRETS:
        path = tmp_path / name.lower()
        path.write_text(secrets.token_urlsafe(48))
        env[name] = str(path)
    env["PARTNER_VAR_DIR"] = str(tmp_path / "var")
    env["PARTNER_MEDIA_DIR"] = str(tmp_path / "var" / "media")
    (tmp_path / "var" / "static").mkdir(parents=True, exist_ok=True)
    return env


def test_the_deployment_check_passes_with_the_env_examples_values(tmp_path: Path) -> None:
    active, _names = env_example()
    assert active["DEBUG"] == "false"
    assert active["DATABASE_URL"].startswith("postgres://")
    assert active["PARTNER_BEHIND_TLS_PROXY"] == active["PARTNER_SSL_REDIRECT"] == "true"
    assert set(SECRETS) <= active.keys()
    run = subprocess.run(
        [str(BIN / "partner"), "check", "--deploy", "--fail-level", "WARNING"],
        cwd=tmp_path,
        env=production_environment(tmp_path, active),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "no issues" in run.stdout


# --- gunicorn ---------------------------------------------------------------------------------------


def gunicorn_settings() -> dict[str, Any]:
    values = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    return {k: v for k, v in values.items() if not k.startswith("_") and k not in ("annotations", "os")}


def test_the_gunicorn_config_loads_with_the_settings_the_deployment_relies_on() -> None:
    from gunicorn.config import Config

    values = gunicorn_settings()
    config = Config()
    for name, value in values.items():
        assert name in config.settings, f"{name} is not a gunicorn setting"
        config.set(name, value)  # gunicorn's own validation of the value
    assert config.wsgi_app == "partner.wsgi:application"
    assert config.bind == ["unix:/run/partner/gunicorn.sock"]
    assert config.worker_class_str == "gthread"
    assert config.workers >= 2 and config.threads >= 2
    assert config.umask & 0o070 == 0, "nginx, in the group, must be able to use the socket"
    assert config.umask & 0o007 == 0o007, "nobody else may"
    assert "127.0.0.1" in config.forwarded_allow_ips
    assert config.accesslog == "-" and config.errorlog == "-"
    assert config.timeout >= 60
    assert "%(q)s" not in config.access_log_format and "%(r)s" not in config.access_log_format, "no query strings"


def test_gunicorns_access_log_escapes_control_characters_from_the_request() -> None:
    from gunicorn.config import Config

    config = Config()
    for name, value in gunicorn_settings().items():
        config.set(name, value)
    logger = config.logger_class(config)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/health%0A...",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "PATH_INFO": f"/health\n{FORGED}",
        "HTTP_USER_AGENT": "curl\x1b[2J",
    }
    response = type("Response", (), {"status": "404 Not Found", "sent": 0, "headers": [("X-Request-ID", "77ab")]})()
    request = type("Request", (), {"headers": [("X-FORWARDED-FOR", "203.0.113.9\r\n")]})()
    atoms = logger.atoms(response, request, environ, dt.timedelta(milliseconds=3))
    line = config.access_log_format % logger.atoms_wrapper_class(atoms)
    assert line == f'203.0.113.9\\r\\n "GET /health\\n{FORGED_QUOTED} HTTP/1.1" 404 0 3ms "curl\\x1b[2J" 77ab'


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text(), str(path))
    return parser


def exec_lines(path: Path, key: str = "ExecStart") -> list[list[str]]:
    return [shlex.split(line.split("=", 1)[1]) for line in path.read_text().splitlines() if line.startswith(f"{key}=")]


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over gunicorn's unix socket, as nginx talks to it."""

    def __init__(self, path: Path) -> None:
        super().__init__("registry.example.org", timeout=60)
        self.path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(60)
        self.sock.connect(str(self.path))


def ask(sock: Path, path: str, **headers: str) -> http.client.HTTPResponse:
    conn = UnixHTTPConnection(sock)
    conn.request("GET", path, headers=headers)
    answer = conn.getresponse()
    answer.body = answer.read()  # type: ignore[attr-defined]
    conn.close()
    return answer


def test_gunicorn_with_the_config_serves_the_registry_on_its_socket_behind_the_tls_proxy(tmp_path: Path) -> None:
    env = production_environment(
        tmp_path,
        {
            "DEBUG": "false",
            "SQLITE_PATH": str(tmp_path / "registry.sqlite3"),
            "ALLOWED_HOSTS": "registry.example.org",
            "PARTNER_BEHIND_TLS_PROXY": "true",
            "PARTNER_SSL_REDIRECT": "true",
            "PARTNER_TRUSTED_PROXIES": "1",
        },
    )
    migrated = subprocess.run(
        [str(BIN / "partner"), "migrate", "--no-input"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert migrated.returncode == 0, migrated.stderr
    sock = tmp_path / "gunicorn.sock"
    log = tmp_path / "gunicorn.log"
    access = tmp_path / "access.log"
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--config",
            str(DEPLOY / "gunicorn.conf.py"),
            f"--bind=unix:{sock}",
            "--workers=1",
            f"--access-logfile={access}",
            f"--error-logfile={log}",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, log.read_text() if log.exists() else "gunicorn stopped"
            try:
                health = ask(sock, "/health")
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not answer within 120 s"
                time.sleep(0.2)
        assert health.status == 200
        assert json.loads(health.body) == {"status": "ok"}  # type: ignore[attr-defined]
        assert sock.stat().st_mode & 0o777 == 0o770
        # nginx says the request came over TLS: Django believes it, and the database answers.
        tls = {"X-Forwarded-Proto": "https"}
        api = ask(sock, "/api/cases", Authorization="Bearer prt_not-a-token", **tls)
        assert api.status == 401, api.body  # type: ignore[attr-defined]
        page = ask(sock, "/accounts/login/", **tls)
        assert page.status == 200
        assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
        # Without it, the request did not come through the TLS proxy: it is sent there.
        plain = ask(sock, "/accounts/login/")
        assert plain.status == 301
        assert plain.headers["Location"] == "https://registry.example.org/accounts/login/"
        # The client's address and the request's id are nginx's; a %0A in the path forges no log line.
        forwarded = ask(sock, "/accounts/login/", **tls, **{"X-Forwarded-For": "203.0.113.9", "X-Request-ID": "4f1c2a"})
        assert forwarded.headers["X-Request-ID"] == "4f1c2a"
        forged = ask(sock, f"/health%0A{quote(FORGED)}", **tls, **{"X-Request-ID": "77ab"})
        assert forged.status == 404
    finally:
        server.terminate()
        server.wait(timeout=60)
    assert server.returncode == 0, log.read_text()
    accessed = access.read_text().splitlines()
    assert any(line.startswith('203.0.113.9 "GET /accounts/login/ ') and line.endswith(" 4f1c2a") for line in accessed)
    assert f'"GET /health\\n{FORGED_QUOTED} HTTP/1.1" 404' in access.read_text()
    errors = log.read_text().splitlines()
    assert any(f"WARNING django.request [77ab] Not Found: /health\\n{FORGED}" in line for line in errors), errors
    assert [line for line in accessed + errors if line.startswith(FORGED)] == []


# --- systemd ------------------------------------------------------------------------------------------


def test_the_systemd_units_parse_and_fit_the_other_files() -> None:
    names = {path.name for path in UNITS}
    assert {"partner.service", "partner-nightly.service", "partner-nightly.timer"} <= names
    assert {"partner-push.service", "partner-push.timer"} <= names
    assert {"partner-sweep.service", "partner-sweep.timer"} <= names
    assert "partner-worker.service" in names
    active, _names = env_example()
    services = {path.name: unit(path) for path in UNITS if path.suffix == ".service"}
    for name, service in services.items():
        assert service["Service"]["User"] == "partner", name
        assert service["Service"]["EnvironmentFile"] == "/etc/partner/partner.env", name
        for command in exec_lines(DEPLOY / name):
            assert command[0].startswith(f"{INSTALLED}/.venv/bin/") or Path(command[0]).is_absolute(), command

    web = services["partner.service"]["Service"]
    assert web["Type"] == "notify"
    command = exec_lines(DEPLOY / "partner.service")[0]
    assert command[:3] == [f"{INSTALLED}/.venv/bin/gunicorn", "--config", f"{INSTALLED}/deploy/gunicorn.conf.py"]
    settings = gunicorn_settings()
    assert settings["bind"] == [f"unix:/run/{web['RuntimeDirectory']}/gunicorn.sock"]
    assert f"/var/lib/{web['StateDirectory']}" == active["PARTNER_VAR_DIR"]
    assert active["PARTNER_MEDIA_DIR"].startswith(active["PARTNER_VAR_DIR"] + "/")
    assert active["PARTNER_VAR_DIR"] in web["ReadWritePaths"].split()
    assert int(web["TimeoutStopSec"]) > settings["graceful_timeout"]
    assert services["partner.service"]["Install"]["WantedBy"] == "multi-user.target"

    # Long work runs in its own process, started with the web and stopped gently enough to finish a job.
    worker = services["partner-worker.service"]
    assert exec_lines(DEPLOY / "partner-worker.service") == [
        [f"{INSTALLED}/.venv/bin/partner", "db_worker", "--no-reload", "--interval", "1"]
    ]
    assert "partner.service" in worker["Install"]["WantedBy"].split()
    assert worker["Service"]["ReadWritePaths"] == web["ReadWritePaths"]
    assert int(worker["Service"]["TimeoutStopSec"]) >= 300

    nightly = services["partner-nightly.service"]["Service"]
    assert nightly["Type"] == "oneshot"
    assert nightly["WorkingDirectory"] in nightly["ReadWritePaths"].split()
    jobs = [c[1:] for c in exec_lines(DEPLOY / "partner-nightly.service")]
    assert jobs == [["backup"], ["qc", "remind"], ["consult", "remind"]]
    push = exec_lines(DEPLOY / "partner-push.service")
    assert [c[1:3] for c in push] == [["hub", "push"]]
    # Uploads may hold children's names: swept every ten minutes, so none outlives its hour by much.
    assert [c[1:] for c in exec_lines(DEPLOY / "partner-sweep.service")] == [["clearimports"]]
    assert unit(DEPLOY / "partner-sweep.timer")["Timer"]["OnCalendar"] == "*:0/10"

    for path in UNITS:
        if path.suffix == ".timer":
            timer = unit(path)
            assert timer["Timer"]["OnCalendar"], path.name
            assert timer["Timer"]["Unit"] in services, path.name
            assert timer["Timer"]["Persistent"] == "true", path.name
            assert timer["Install"]["WantedBy"] == "timers.target", path.name


DEPLOYED_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_the_commands_the_units_run_exist_and_take_those_arguments(tmp_path: Path) -> None:
    from django.core.management import get_commands, load_command_class
    from django.core.management.base import CommandParser

    token = tmp_path / "token"
    token.write_text("prt_x")
    commands = [c for path in UNITS if path.suffix == ".service" for c in exec_lines(path)]
    commands = [c for c in commands if c[0] == f"{INSTALLED}/.venv/bin/partner"]
    assert len(commands) == 6
    for command in commands:
        name, *args = command[1:]
        args = [token.as_posix() if a == "${PARTNER_HUB_TOKEN_FILE}" else a for a in args]
        parser: CommandParser = load_command_class(get_commands()[name], name).create_parser("partner", name)
        with override_settings(TASKS=DEPLOYED_TASKS):  # the suite's own queue runs jobs in place
            parsed = parser.parse_args(args)  # SystemExit, and the test fails, on an argument it does not take
        assert parsed is not None


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verifies_the_units(tmp_path: Path) -> None:
    for path in UNITS:  # installed here: the commands must exist for systemd to accept the unit
        text = path.read_text().replace(f"{INSTALLED}/.venv/bin", str(BIN)).replace(INSTALLED, str(ROOT))
        (tmp_path / path.name).write_text(text)
    run = subprocess.run(
        ["systemd-analyze", "verify", *[f"./{p.name}" for p in UNITS]],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout + run.stderr == ""  # an unknown key is only a warning: none either


# --- nginx --------------------------------------------------------------------------------------------


Block = list[tuple[list[str], "Block | None"]]


def nginx_config() -> Block:
    """deploy/nginx.conf as a tree: each directive's words, and the directives of its block (None for none)."""
    tokens = iter(re.findall(r"[{};]|[^\s{};]+", re.sub(r"#[^\n]*", "", (DEPLOY / "nginx.conf").read_text())))

    def block(top: bool) -> Block:
        items: Block = []
        words: list[str] = []
        for token in tokens:
            if token == "{":
                items.append((words, block(top=False)))
                words = []
            elif token == "}":
                assert not top and not words, f"a stray }} or a directive without its ;: {words}"
                return items
            elif token == ";":
                items.append((words, None))
                words = []
            else:
                words.append(token)
        assert top and not words, "a block without its }, or a directive without its ;"
        return items

    return block(top=True)


def everywhere(tree: Block) -> list[list[str]]:
    out = []
    for words, inside in tree:
        out.append(words)
        out += everywhere(inside or [])
    return out


def megabytes(size: str) -> int:
    number, unit = re.fullmatch(r"(\d+)([kKmMgG]?)", size).groups()  # type: ignore[union-attr]
    return int(number) * {"": 1, "k": 2**10, "m": 2**20, "g": 2**30}[unit.lower()]


def test_the_nginx_config_proxies_to_gunicorns_socket_and_serves_static_root() -> None:
    from partner.consult.api import MAX_BASE64
    from partner.interop.forms import MAX_UPLOAD

    tree = nginx_config()
    active, _names = env_example()
    upstreams = [inside for words, inside in tree if words == ["upstream", "partner"]]
    assert upstreams == [[(["server", gunicorn_settings()["bind"][0], "fail_timeout=0"], None)]]
    servers = [inside or [] for words, inside in tree if words == ["server"]]
    tls = [server for server in servers if (["listen", "443", "ssl", "http2"], None) in server]
    assert len(tls) == 1, "one server on 443 with TLS"
    locations = {" ".join(words[1:]): inside or [] for words, inside in tls[0] if words[0] == "location"}
    assert {"/static/", "/", "/import/"} <= locations.keys()
    for where, inside in locations.items():
        if where == "/static/":
            assert (["alias", f"{active['PARTNER_VAR_DIR']}/static/"], None) in inside
            continue
        assert (["proxy_pass", "http://partner"], None) in inside, where
        assert (["proxy_set_header", "X-Forwarded-Proto", "$scheme"], None) in inside, where
        assert (["proxy_set_header", "Host", "$host"], None) in inside, where
        # The client's address (PARTNER_TRUSTED_PROXIES counts nginx) and the id Django's log records carry.
        assert (["proxy_set_header", "X-Forwarded-For", "$proxy_add_x_forwarded_for"], None) in inside, where
        assert (["proxy_set_header", "X-Request-ID", "$request_id"], None) in inside, where
    assert (["proxy_buffering", "off"], None) in locations["/import/"], "the import streams its progress"
    directives = everywhere(tree)
    body = [d[1] for d in directives if d[0] == "client_max_body_size"]
    assert len(body) == 1 and megabytes(body[0]) >= max(MAX_BASE64, MAX_UPLOAD)
    assert {d[1] for d in directives if d[0] == "server_name"} == set(active["ALLOWED_HOSTS"].split(","))
    assert [d for d in directives if d[0] == "add_header"] == [], "security headers are Django's"
    assert active["PARTNER_TRUSTED_PROXIES"] == "1", "nginx is the one proxy in front"
    formats = {d[1]: " ".join(d[2:]) for d in directives if d[0] == "log_format"}
    logs = [d for d in directives if d[0] == "access_log" and d[1] != "off"]
    assert logs and all(d[2] in formats for d in logs), "nginx's access log in the registry's own format"
    for text in formats.values():
        assert "$request_id" in text
        assert not re.search(r"\$(request|request_uri|args|query_string|arg_\w+)\b", text), "no query strings"


NGINX = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")  # `make nginx` installs it


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (make nginx)")
@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl makes the test's certificate")
def test_nginx_accepts_the_config(tmp_path: Path) -> None:
    certificate = ["-subj", "/CN=registry.example.org", "-days", "1", "-nodes", "-newkey", "rsa:2048"]
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            *certificate,
            "-keyout",
            f"{tmp_path}/privkey.pem",
            "-out",
            f"{tmp_path}/fullchain.pem",
        ],
        check=True,
        capture_output=True,
    )
    site = (DEPLOY / "nginx.conf").read_text().replace("/etc/ssl/partner/", f"{tmp_path}/")
    site = site.replace("/var/log/nginx/", f"{tmp_path}/")
    (tmp_path / "partner.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\n"
        f"http {{\n    access_log off;\n    include {tmp_path}/partner.conf;\n}}\n"
    )
    run = subprocess.run(
        [str(NGINX), "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "test is successful" in run.stderr
