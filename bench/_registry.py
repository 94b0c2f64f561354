"""A throw-away SQLite registry for a bench: a temporary folder, debug settings, Django set up.

Imported first by the benches that need the ORM; the folder is removed when the bench ends.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
workdir = Path(tempfile.mkdtemp(prefix="partner-bench-"))
atexit.register(shutil.rmtree, workdir, ignore_errors=True)
os.environ.update({"DEBUG": "true", "PARTNER_VAR_DIR": str(workdir), "SQLITE_PATH": str(workdir / "bench.sqlite3")})
os.environ.pop("DATABASE_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partner.settings")

import django  # noqa: E402

django.setup()
