"""pytest plugin (loaded with -p, before Django reads its settings): secrets for the test run."""

import atexit
import os
import secrets
import shutil
import tempfile
from pathlib import Path

import pytest

_keys = Path(tempfile.mkdtemp(prefix="partner-test-keys-"))
atexit.register(shutil.rmtree, _keys, ignore_errors=True)
for _name, _variable in (
    ("secret_key", "SECRET_KEY_FILE"),
    ("pseudonym_key", "PARTNER_PSEUDONYM_KEY_FILE"),
    ("linkage_key", "PARTNER_LINKAGE_KEY_FILE"),
):
    if not os.environ.get(_variable):
        (_keys / _name).write_text(secrets.token_urlsafe(48))
        os.environ[_variable] = str(_keys / _name)
os.environ.setdefault("PARTNER_VAR_DIR", str(_keys / "var"))
(Path(os.environ["PARTNER_VAR_DIR"]) / "static").mkdir(parents=True, exist_ok=True)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """A fast password hash for the test users: the strength of the hash is not what the suite tests."""
    from django.conf import settings
    from django.db import connections

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Jobs run where they are started, within the test's transaction; the tests that run the real
    # worker (partner/jobs/tests/test_worker.py) start it with the database queue.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    from django.test.signals import setting_changed

    setting_changed.send(sender=None, setting="TASKS", value=settings.TASKS, enter=True)  # read again
    # The suite's SQLite database is a file, as the registry's is: threads that race on it queue on
    # SQLite's write lock as they do in production (an in-memory one refuses them instead).
    for alias, database in settings.DATABASES.items():
        if database["ENGINE"] == "django.db.backends.sqlite3" and not database.get("TEST", {}).get("NAME"):
            name = str(_keys / f"test-{alias}.sqlite3")
            database.setdefault("TEST", {})["NAME"] = name
            connections[alias].settings_dict.setdefault("TEST", {})["NAME"] = name


@pytest.fixture(autouse=True)
def _default_language() -> None:
    """Each test starts in the registry's default language.

    A request through the test client leaves the language its middleware chose active in the thread
    (a real server's next request chooses again); a test that then calls a service directly would read
    its messages in whatever language the test before it asked for.
    """
    from django.utils import translation

    translation.deactivate()
