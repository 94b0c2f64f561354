"""Quality control over a whole registry: every rule, vectorised, against checking one case at a time.

Figure: seconds for `run_rules` with the full rule set (the dictionary's, the cancer-registry checks
and the tumour modules') over 1,000,000 synthetic cases. The cases are a demo registry of 1,000
patients built through the save path, read as typed frames, and repeated 1,000 times under new case
ids (with their treatment lines and follow-up events): the values, and so the share of failing rows,
are those of the demo, about 2 % of cases with a deliberate error. Goal: 10 s or less.

Peer, measured in the same run: `check_case`, the check every save runs, one case at a time over 200
of the demo's cases, scaled to 1,000,000. Also printed: `partner qc run` end to end over the demo
registry (frames, rules and storing the findings).
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _registry  # noqa: F401  (a throw-away registry, Django set up)
import pandas as pd
from django.conf import settings
from django.core.management import call_command

from partner.cases.demo import generate
from partner.cases.frames import CaseFrames
from partner.cases.models import TumourCase
from partner.dictionary.loader import get_dictionary, load_bundled
from partner.quality.engine import context_for, run_rules
from partner.quality.receivers import deferred
from partner.quality.registry import registry_rules
from partner.quality.rules.base import Context
from partner.quality.services import check_case, check_cases

PATIENTS = 1_000
COPIES = 1_000
TARGET = 1_000_000
ONE_AT_A_TIME = 200
GOAL = 10.0


def tiled(frames: CaseFrames, copies: int) -> CaseFrames:
    """The frames repeated `copies` times, each copy's case ids shifted past the previous copy's."""
    step = int(frames.cases["case_id"].max()) + 1

    def repeat(frame: pd.DataFrame) -> pd.DataFrame:
        parts = []
        for i in range(copies):
            part = frame.copy(deep=False)
            part["case_id"] = frame["case_id"] + i * step
            parts.append(part)
        return pd.concat(parts, ignore_index=True)

    return CaseFrames(repeat(frames.cases), {k: repeat(v) for k, v in frames.repeating.items()}, frames.invalid)


def main() -> None:
    call_command("migrate", verbosity=0)
    load_bundled()
    d = get_dictionary()
    started = time.perf_counter()
    with deferred():
        for _ in generate(d, patients=PATIENTS, seed=5, key=settings.PSEUDONYM_KEY):
            pass
    cases = TumourCase.objects.all()
    print(f"demo registry: {cases.count():,} cases built in {time.perf_counter() - started:.0f} s")

    started = time.perf_counter()
    run = check_cases(cases)
    print(
        f"partner qc run over the demo registry ({run.cases:,} cases, end to end): "
        f"{time.perf_counter() - started:.2f} s, {len(run.found):,} findings"
    )

    ctx = context_for(cases)
    rules = registry_rules(d)
    copies = -(-TARGET // len(ctx.cases))
    big = tiled(ctx.frames, copies)
    big_ctx = Context(frames=big, dictionary=d, today=ctx.today, max_age_years=ctx.max_age_years)
    rows = ", ".join(f"{len(frame):,} {name} rows" for name, frame in big.repeating.items())
    started = time.perf_counter()
    found = run_rules(big_ctx, rules)
    seconds = time.perf_counter() - started
    expected = len(run.found) * copies
    if len(found) != expected:
        sys.exit(f"the tiled run found {len(found):,} findings, not {copies} x {len(run.found):,} = {expected:,}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"run_rules, {len(rules)} rules over {len(big.cases):,} cases ({rows}): "
        f"{seconds:.2f} s, {len(big.cases) / seconds:,.0f} cases/s, {len(found):,} findings; peak memory {peak:,.0f} MB"
    )

    sample = list(cases.order_by("pk")[:ONE_AT_A_TIME])
    check_case(sample[0])  # warm the caches, as a running server's are
    started = time.perf_counter()
    for case in sample:
        check_case(case)
    each = (time.perf_counter() - started) / len(sample)
    scaled = each * len(big.cases)
    print(
        f"peer: check_case one case at a time (the check of the save path), {len(sample)} cases: "
        f"{each * 1000:.0f} ms a case, scaled to {len(big.cases):,} cases: {scaled:,.0f} s ({scaled / 3600:.1f} h)"
    )
    print(f"ratio: the vectorised run is {scaled / seconds:,.0f}x faster than one case at a time")
    verdict = "met" if seconds <= GOAL else "NOT met"
    print(f"goal {len(big.cases):,} cases in {GOAL:.0f} s or less: {verdict} ({seconds:.2f} s)")


if __name__ == "__main__":
    main()
