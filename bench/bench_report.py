"""The report of a tumour entity with 10,000 cases: the page with its figures, and its PDF.

Figure: seconds for `build_report` (cohort, incidence, treatment, overall survival, survival by
stage) with every figure drawn as the page's SVG and the whole report as a PDF, over 10,000
children of one entity; and the same for the evidence pack (adds event-free survival, survival by
treatment and the Cox model). Goal: 3 s or less for the report.

Peer, measured in the same run: the statistics alone, straight from lifelines on the same
survival table (Kaplan-Meier overall, by stage and by treatment, and the Cox model), without
tables, suppression or drawing. The ratio says what the report costs over its estimates.

The cases are synthetic frames, shaped like `partner.cases.frames`: reading them from the
database is measured by bench_frames.py.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _registry  # noqa: F401  (a throw-away registry, Django set up)
import numpy as np
import pandas as pd
from django.core.management import call_command
from lifelines import CoxPHFitter, KaplanMeierFitter

from partner.analysis import main_stage, survival_table, treatment_pattern
from partner.cases.frames import CaseFrames
from partner.dictionary.loader import get_dictionary, load_bundled
from partner.lib.figures import svg
from partner.release import Policy, Release
from partner.reports.demo import load_demo_population
from partner.reports.evidence import build_evidence_pack
from partner.reports.pdf import render_pdf
from partner.reports.population import population_frame
from partner.reports.report import build_report

CHILDREN = 10_000
GOAL_SECONDS = 3.0
STAGES = {"I": 0.03, "II": 0.06, "IIIB": 0.12, "IVA": 0.35}
PLANS = [("surgery",), ("surgery", "chemotherapy"), ("surgery", "chemotherapy", "radiotherapy"), ("chemotherapy",)]


def synthetic_frames(n: int, seed: int = 1) -> CaseFrames:
    r = np.random.default_rng(seed)
    stage = r.choice(list(STAGES), size=n, p=[0.35, 0.3, 0.2, 0.15])
    hazard = np.array([STAGES[s] for s in stage])
    diagnosed = pd.Timestamp("2012-01-01") + pd.to_timedelta(r.integers(0, 13 * 365, n), unit="D")
    born = diagnosed - pd.to_timedelta((r.uniform(0.5, 19.5, n) * 365.25).astype(int), unit="D")
    death = diagnosed + pd.to_timedelta((r.exponential(1 / hazard) * 365.25).astype(int) + 30, unit="D")
    last = diagnosed + pd.to_timedelta(r.integers(60, 12 * 365, n), unit="D")
    dead = death <= last
    cases = pd.DataFrame(
        {
            "case_id": pd.array(range(1, n + 1), dtype="Int64"),
            "child_id": pd.array(range(1, n + 1), dtype="Int64"),
            "entity": "ACC",
            "country": r.choice(["IT", "FR", "DE", "PL", "GB"], size=n),
            "sex": r.choice(["female", "male"], size=n),
            "date_of_birth": born,
            "diagnosis_date": diagnosed,
            "stage_group": stage,
            "metastatic_at_diagnosis": np.where(np.char.startswith(stage.astype(str), "IV"), "yes", "no"),
            "patient_status": np.where(dead, "dead", "alive"),
            "date_of_death": pd.Series(death).where(dead),
            "last_contact_date": pd.Series(last).where(~dead, death),
        }
    )
    plans = r.integers(0, len(PLANS), n)
    lines = [(i + 1, kind) for i, p in enumerate(plans) for kind in PLANS[p]]
    relapsed = r.random(n) < 0.25
    follow_up = pd.DataFrame(
        {
            "case_id": np.flatnonzero(relapsed) + 1,
            "event_type": "relapse",
            "event_date": diagnosed[relapsed] + pd.to_timedelta(r.integers(60, 900, relapsed.sum()), unit="D"),
        }
    )
    treatment = pd.DataFrame(lines, columns=["case_id", "line_type"])
    return CaseFrames(cases, {"treatment": treatment, "follow_up": follow_up})


def timed(work):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def peer(frames: CaseFrames) -> None:
    """The same estimates straight from lifelines."""
    table = survival_table(frames.cases)
    table["stage"] = main_stage(table["stage_group"]).astype(str)
    patterns = treatment_pattern(
        frames.cases, frames.repeating["treatment"], ["surgery", "chemotherapy", "radiotherapy"]
    )
    table["plan"] = table["case_id"].map(dict(zip(frames.cases["case_id"], patterns, strict=True)))
    KaplanMeierFitter().fit(table["duration"], table["event"])
    for column in ("stage", "plan"):
        for _level, rows in table.groupby(column):
            KaplanMeierFitter().fit(rows["duration"], rows["event"])
    design = pd.get_dummies(table[["stage", "age"]], drop_first=True).astype(float)
    design[["duration", "event"]] = table[["duration", "event"]]
    CoxPHFitter().fit(design, "duration", "event")


def main() -> None:
    call_command("migrate", verbosity=0)
    load_bundled()
    load_demo_population()
    d = get_dictionary()
    population = population_frame()
    frames = synthetic_frames(CHILDREN)

    def report() -> int:
        built = build_report(
            frames, "ACC", d, release=Release(None, Policy(exact=False, threshold=5)), population=population
        )
        for section in built.sections:
            figure = section.figure()
            if figure is not None:
                svg(figure, section.title, section.key)
        return len(render_pdf(built))

    def evidence() -> int:
        return len(
            render_pdf(
                build_evidence_pack(
                    frames, "ACC", d, release=Release(None, Policy(exact=False, threshold=5)), population=population
                )
            )
        )

    report()  # warm: fonts, imports
    report_seconds, report_bytes = timed(report)
    evidence_seconds, evidence_bytes = timed(evidence)
    peer_seconds, _ = timed(lambda: peer(frames))
    size = f"{report_bytes / 1024:.0f} KB"
    print(f"entity report, {CHILDREN:,} children: page figures + PDF ({size}) in {report_seconds:.2f} s")
    print(f"evidence pack, {CHILDREN:,} children: PDF ({evidence_bytes / 1024:.0f} KB) in {evidence_seconds:.2f} s")
    print(f"peer, lifelines alone (KM overall, by stage, by treatment; Cox): {peer_seconds:.2f} s")
    print(f"ratio report / peer: {report_seconds / peer_seconds:.1f}")
    verdict = "met" if report_seconds <= GOAL_SECONDS else "NOT met"
    print(f"goal: the report in {GOAL_SECONDS:.0f} s or less: {verdict}")


if __name__ == "__main__":
    main()
