"""Start-up refuses to run without its secrets outside debug mode, and says what to do."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _start(env_overrides, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY_FILE", "PARTNER_PSEUDONYM_KEY_FILE", "DEBUG")}
    env.update({"PARTNER_VAR_DIR": str(tmp_path / "var"), "DJANGO_SETTINGS_MODULE": "partner.settings"})
    env.update(env_overrides)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_refuses_to_start_without_secrets_outside_debug_mode(tmp_path):
    run = _start({}, tmp_path)
    assert run.returncode != 0
    assert "SECRET_KEY_FILE and PARTNER_PSEUDONYM_KEY_FILE not set" in run.stderr


def test_it_refuses_a_secret_file_that_is_too_short(tmp_path):
    short = tmp_path / "key"
    short.write_text("tiny")
    long = tmp_path / "long"
    long.write_text("x" * 40)
    run = _start({"SECRET_KEY_FILE": str(short), "PARTNER_PSEUDONYM_KEY_FILE": str(long)}, tmp_path)
    assert run.returncode != 0
    assert f"SECRET_KEY_FILE={short}: the secret must be at least 32 characters" in run.stderr


def test_it_names_a_secret_file_it_cannot_read(tmp_path):
    run = _start(
        {"SECRET_KEY_FILE": str(tmp_path / "missing"), "PARTNER_PSEUDONYM_KEY_FILE": str(tmp_path / "missing")},
        tmp_path,
    )
    assert run.returncode != 0
    assert "cannot read the file" in run.stderr


def test_it_starts_with_secret_files(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).write_text("s" * 48)
    run = _start({"SECRET_KEY_FILE": str(tmp_path / "a"), "PARTNER_PSEUDONYM_KEY_FILE": str(tmp_path / "b")}, tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "False"


def test_debug_mode_creates_development_keys_under_var(tmp_path):
    run = _start({"DEBUG": "true"}, tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "True"
    assert len((tmp_path / "var" / "dev-secrets" / "pseudonym_key").read_text()) >= 32


def test_a_malformed_boolean_is_a_clear_error(tmp_path):
    run = _start({"DEBUG": "maybe"}, tmp_path)
    assert run.returncode != 0
    assert "DEBUG='maybe': expected true or false" in run.stderr
