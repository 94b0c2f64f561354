"""The evidence pack: its sections, what it hides, and an attempt to recover what it hides."""

from __future__ import annotations

import datetime as dt
import io
import re

import numpy as np
import pandas as pd
from django.core.management import call_command
from django.urls import reverse

from partner.cases.frames import CaseFrames
from partner.release import Policy, Release
from partner.reports.evidence import build_evidence_pack
from partner.reports.outcomes import draw_km
from partner.reports.pdf import render_pdf
from partner.reports.sections import Report
from partner.testing import RegistryTestCase

STAGES = ["I", "II", "IIIA", "IV"]


def frames(groups: dict[tuple[str, tuple[str, ...]], int], *, seed: int = 1) -> CaseFrames:
    """ACC cases: `groups` maps (stage, treatment types) to a number of children, each with a random
    outcome over ten years, a relapse for some."""
    r = np.random.default_rng(seed)
    cases, lines, events = [], [], []
    case_id = 0
    for (stage, kinds), n in groups.items():
        hazard = {"I": 0.05, "II": 0.1, "IIIA": 0.2, "IV": 0.6}[stage]
        for _ in range(n):
            case_id += 1
            diagnosed = pd.Timestamp("2012-01-01") + pd.Timedelta(days=int(r.integers(0, 3000)))
            death = diagnosed + pd.Timedelta(days=int(r.exponential(365.25 / hazard)))
            last = diagnosed + pd.Timedelta(days=int(r.uniform(200, 4000)))
            dead = death <= last
            cases.append(
                {
                    "case_id": case_id,
                    "child_id": case_id,
                    "entity": "ACC",
                    "country": ["IT", "FR", "DE"][case_id % 3],
                    "sex": ["female", "male"][case_id % 2],
                    "date_of_birth": diagnosed - pd.Timedelta(days=int(r.uniform(1, 17) * 365.25)),
                    "diagnosis_date": diagnosed,
                    "stage_group": stage,
                    "metastatic_at_diagnosis": "yes" if stage == "IV" else "no",
                    "patient_status": "dead" if dead else "alive",
                    "date_of_death": death if dead else pd.NaT,
                    "last_contact_date": death if dead else last,
                }
            )
            lines.extend({"case_id": case_id, "line_type": kind} for kind in kinds)
            if r.random() < 0.3:
                events.append(
                    {"case_id": case_id, "event_type": "relapse", "event_date": diagnosed + pd.Timedelta(days=150)}
                )
    return CaseFrames(
        pd.DataFrame(cases),
        {
            "treatment": pd.DataFrame(lines, columns=["case_id", "line_type"]),
            "follow_up": pd.DataFrame(events, columns=["case_id", "event_type", "event_date"]),
        },
    )


def hidden_cells_recoverable(report: Report) -> list[str]:
    """The attacker: in every table, a column with exactly one hidden count whose other counts and total
    are shown gives the hidden one away by subtraction."""
    found = []
    for key, table in report.tables.items():
        for column in table.frame.columns:
            cells = table.frame[column].astype(str)
            hidden = cells.str.fullmatch(r"<\d+")
            if hidden.sum() == 1 and cells[~hidden].str.fullmatch(r"\d+").all() and len(cells) > 1:
                found.append(f"{key}.{column}")
    return found


class TheEvidencePack(RegistryTestCase):
    def pack(self, groups: dict[tuple[str, tuple[str, ...]], int]) -> Report:
        return build_evidence_pack(
            frames(groups),
            "ACC",
            self.dictionary,
            release=Release(None, Policy(exact=False, threshold=5)),
            today=dt.date(2026, 11, 1),
        )

    def test_it_holds_outcomes_by_stage_and_by_treatment_and_the_cox_model(self) -> None:
        pack = self.pack(
            {
                ("I", ("surgery",)): 25,
                ("I", ("surgery", "chemotherapy")): 15,
                ("II", ("surgery", "chemotherapy")): 20,
                ("II", ("surgery",)): 15,
                ("IIIA", ("surgery", "chemotherapy", "radiotherapy")): 15,
                ("IIIA", ("surgery", "chemotherapy")): 15,
                ("IV", ("chemotherapy",)): 20,
                ("IV", ("surgery", "chemotherapy", "radiotherapy")): 10,
            }
        )
        keys = [s.key for s in pack.sections]
        self.assertEqual(keys, ["cohort", "treatment", "os", "efs", "os_by_stage", "os_by_treatment", "cox"])
        self.assertTrue(pack.suppressed)
        stage = pack.tables["os_by_stage"].frame
        self.assertEqual(stage["Stage"].tolist(), ["I", "II", "III", "IV"])  # IIIA counted as III
        # every count of the pack is protected: changed by at most 2 by its cell key
        for shown, true in zip(stage["Children"].tolist(), [40, 35, 30, 30], strict=True):
            self.assertLessEqual(abs(int(shown) - true), 2)
        combos = pack.tables["combinations"].frame.set_index("Treatment combination")
        self.assertLessEqual(abs(int(combos.loc["Surgery + Chemotherapy + Radiotherapy", "Cases"]) - 25), 2)
        self.assertIn("Log-rank", " ".join(pack.section("os_by_stage").notes))
        cox = pack.tables["cox"].frame
        self.assertIn("stage: IV", cox["Term"].tolist())
        iv = cox.set_index("Term").loc["stage: IV", "Hazard ratio (95% CI)"]
        self.assertGreater(float(iv.split(" ")[0]), 2, "stage IV carries the highest hazard in these data")
        efs = pack.tables["efs"].frame.set_index("Measure")
        os_ = pack.tables["survival"].frame.set_index("Measure")
        self.assertGreaterEqual(int(efs.loc["Events", "Value"]), int(os_.loc["Deaths", "Value"]))
        self.assertTrue(render_pdf(pack).startswith(b"%PDF"))

    def test_a_group_hidden_to_protect_a_smaller_one_gets_no_curve(self) -> None:
        # Surgery + radiotherapy has 3 children: hidden. The next smallest, 8, is hidden with it; a
        # curve for it would start at 8 at risk and give both away.
        pack = self.pack(
            {
                ("I", ("surgery",)): 15,
                ("II", ("surgery", "chemotherapy")): 24,
                ("IIIA", ("surgery", "chemotherapy", "radiotherapy")): 8,
                ("II", ("surgery", "radiotherapy")): 3,
            }
        )
        table = pack.tables["os_by_treatment"].frame.set_index("Treatment")
        self.assertEqual(table.loc["Surgery + Radiotherapy", "Children"], "<5")
        self.assertEqual(table.loc["Surgery + Chemotherapy + Radiotherapy", "Children"], "<5")
        section = pack.section("os_by_treatment")
        drawn = section.draw.keywords["labels"].values()
        self.assertEqual(sorted(drawn), ["Surgery", "Surgery + Chemotherapy"])
        self.assertEqual(table.loc["Surgery + Chemotherapy + Radiotherapy", "Median (years, 95% CI)"], "—")

    def test_no_hidden_count_can_be_worked_out_from_its_column(self) -> None:
        for seed, groups in enumerate(
            [
                {("I", ("surgery",)): 12, ("II", ("surgery", "chemotherapy")): 2, ("IV", ("chemotherapy",)): 9},
                {("I", ("surgery",)): 30, ("IIIA", ("surgery", "radiotherapy")): 4, ("IV", ("surgery",)): 1},
                {("II", ("surgery",)): 6, ("IV", ("surgery", "chemotherapy")): 6, ("I", ("surgery",)): 3},
            ]
        ):
            pack = build_evidence_pack(
                frames(groups, seed=seed),
                "ACC",
                self.dictionary,
                release=Release(None, Policy(exact=False, threshold=5)),
            )
            self.assertTrue(
                any(re.fullmatch(r"<\d+", str(v)) for t in pack.tables.values() for v in t.frame.to_numpy().ravel())
            )
            self.assertEqual(hidden_cells_recoverable(pack), [], groups)

    def test_every_curve_is_drawn_into_a_page_of_the_pdf(self) -> None:
        pack = self.pack({("I", ("surgery",)): 20, ("IV", ("surgery", "chemotherapy")): 20})
        from matplotlib.figure import Figure

        for section in pack.sections:
            if section.draw is not None:
                fig = Figure()
                section.draw(fig)
                self.assertGreaterEqual(len(fig.axes), 2)  # the curves, and the numbers at risk under them
                self.assertTrue(fig.axes[0].get_title(loc="left"))
        self.assertIs(pack.section("os_by_stage").draw.func, draw_km)


class TheEvidenceCommandAndPage(RegistryTestCase):
    def test_the_command_writes_the_pack_and_the_page_links_it(self) -> None:
        for i in range(6):
            self.register(
                self.padova,
                given=f"E{i}",
                born=f"2008-0{i + 1}-01",
                morphology="8370/3",
                topography="C74.0",
                case_status="submitted",
            )
        out = io.StringIO()
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "pack.pdf"
            call_command("report", "ACC", "--evidence", "--out", str(path), stdout=out)
            self.assertTrue(path.read_bytes().startswith(b"%PDF"))
        children = re.search(r"(\d+) children", out.getvalue())
        self.assertIsNotNone(children)
        self.assertLessEqual(abs(int(children.group(1)) - 6), 2)  # 6, protected: changed by its cell key
        self.sign_in(self.client, self.researcher)
        page = self.client.get("/reports/ACC/")
        self.assertContains(page, "/reports/ACC/evidence-pack.pdf")
        job_page = self.client.get("/reports/ACC/evidence-pack.pdf", follow=True)  # drawn by the worker
        self.assertContains(job_page, "Download ACC-evidence-pack-")
        pdf = self.client.get(reverse("jobs:download", args=[job_page.context["job"].pk]))
        self.assertEqual(pdf["Content-Type"], "application/pdf")
        self.assertIn("evidence-pack", pdf["Content-Disposition"])
        self.client.logout()
        self.assertEqual(self.client.get("/reports/ACC/evidence-pack.pdf").status_code, 302)
