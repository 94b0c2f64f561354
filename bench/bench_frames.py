"""Reading the registry as typed DataFrames, the way quality control, exports and analyses do.

Figure: seconds for `case_frames(user)` over a synthetic registry of 3,000 patients.
Peer, measured in the same run: the obvious ORM loop, case by case and record by record
(one query per case), building the same rows before handing them to pandas.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _registry  # noqa: F401  (a throw-away registry, Django set up)
import pandas as pd
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from partner.cases.demo import generate
from partner.cases.frames import case_frames
from partner.cases.models import TumourCase
from partner.dictionary.loader import get_dictionary, load_bundled
from partner.quality.receivers import deferred

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
    # The demo registers about one child in a hundred a second time, abroad: more cases than patients.
    if not len(frames.cases) == len(naive) == TumourCase.objects.count():
        sys.exit(f"case_frames read {len(frames.cases):,} cases, the peer {len(naive):,}")
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
