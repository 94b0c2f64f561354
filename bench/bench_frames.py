"""Reading the registry as typed DataFrames, the way quality control, exports and analyses do.

Figure: seconds for `case_frames(user)` over a synthetic registry of 3,000 patients.
Peer, measured in the same run: the obvious ORM loop, case by case and record by record
(one query per case), building the same rows before handing them to pandas.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
workdir = Path(tempfile.mkdtemp(prefix="partner-bench-"))
atexit.register(shutil.rmtree, workdir, ignore_errors=True)
os.environ.update({"DEBUG": "true", "PARTNER_VAR_DIR": str(workdir), "SQLITE_PATH": str(workdir / "bench.sqlite3")})
os.environ.pop("DATABASE_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partner.settings")

import django  # noqa: E402

django.setup()

import pandas as pd  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402

from partner.cases.demo import generate  # noqa: E402
from partner.cases.frames import case_frames  # noqa: E402
from partner.cases.models import TumourCase  # noqa: E402
from partner.dictionary.loader import get_dictionary, load_bundled  # noqa: E402
from partner.quality.receivers import deferred  # noqa: E402

PATIENTS = 3_000


def peer(user) -> pd.DataFrame:
    rows = []
    for case in TumourCase.objects.restrict(user).select_related("centre"):
        row = {"case_id": case.id, "centre": case.centre.code}
        for record in case.records.select_related("form").all():
            if not record.form.repeating:
                for key, value in record.values.items():
                    row[key] = value
        rows.append(row)
    return pd.DataFrame(rows)


def main() -> None:
    call_command("migrate", verbosity=0)
    load_bundled()
    d = get_dictionary()
    start = time.perf_counter()
    with deferred():  # as the demo command builds it: quality control is not what this bench measures
        for _ in generate(d, patients=PATIENTS, seed=11, key=settings.PSEUDONYM_KEY):
            pass
    built = time.perf_counter() - start
    user = get_user_model().objects.get(username="ec.europe")
    start = time.perf_counter()
    frames = case_frames(user)
    ours = time.perf_counter() - start
    start = time.perf_counter()
    naive = peer(user)
    theirs = time.perf_counter() - start
    assert len(frames.cases) == len(naive) == PATIENTS
    print(
        f"demo registry of {PATIENTS:,} patients built in {built:.1f} s "
        f"({PATIENTS / built:,.0f} cases/s through the save path)"
    )
    print(
        f"case_frames: {ours:.2f} s for {len(frames.cases):,} cases x {frames.cases.shape[1]} typed columns"
        f" + {sum(len(f) for f in frames.repeating.values()):,} repeating rows"
    )
    print(f"peer (ORM loop, record by record, untyped): {theirs:.2f} s")
    print(f"ratio: case_frames is {theirs / ours:.1f}x faster than the peer")


if __name__ == "__main__":
    main()
