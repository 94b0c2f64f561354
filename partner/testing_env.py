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
os.environ.setdefault("PARTNER_TEST_SQLITE_PATH", str(_keys / "test.sqlite3"))
(Path(os.environ["PARTNER_VAR_DIR"]) / "static").mkdir(parents=True, exist_ok=True)


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """A fast password hash for the test users: the strength of the hash is not what the suite tests."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
