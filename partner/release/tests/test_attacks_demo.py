"""The attacks of `test_attacks`, played on the demo registry as `make run` builds it (fewer children):
what a researcher and a visitor are given there must not single out a child either."""

from __future__ import annotations

import io
from typing import Any
from unittest import mock

from django.core.management import call_command
from django.test import TestCase
from matplotlib.figure import Figure

from partner.accounts.models import ApiToken, Membership, Role
from partner.analysis import main_stage, survival_table
from partner.cases.frames import build_frames
from partner.cases.models import TumourCase
from partner.dictionary.loader import load_bundled
from partner.release.tests.attacker import assert_no_cell_recoverable, assert_no_small_step
from partner.reports import jobs as report_jobs


class DemoRegistryAttacks(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        load_bundled()
        call_command("demo", "--patients", "150", "--seed", "5", "--force", stdout=io.StringIO(), stderr=io.StringIO())
        cls.researcher = Membership.objects.filter(role=Role.RESEARCHER).first().user
        counted = TumourCase.objects.counted().exclude(entity=None).values_list("entity__code", flat=True)
        by_size = sorted(set(counted), key=lambda code: (-list(counted).count(code), code))
        cls.entities = by_size[:6]  # the largest: every table of theirs has cells to attack
        cls.every_entity = by_size

    def setUp(self) -> None:
        self.token = ApiToken.issue(self.researcher, "attack")[1]
        self.truth = build_frames(TumourCase.objects.counted())

    def api(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/statistics/{path}", params, HTTP_AUTHORIZATION=f"Bearer {self.token}")

    def test_a_day_cut_off_is_refused_whatever_the_filter(self) -> None:
        for entity in self.entities[:3]:
            for path in ("cohort", "survival"):
                response = self.api(path, entity=entity, period_start="2015-01-01", period_end="2019-06-30")
                self.assertEqual(response.status_code, 422)

    def test_no_hidden_count_can_be_worked_out_in_any_entity(self) -> None:
        audited = 0
        for entity in self.entities:
            for by in ("country", "sex", "age_group", "main_stage"):
                body = self.api("cohort", entity=entity, by=by).json()
                assert_no_cell_recoverable([c["n"] for c in body["counts"]], body["total"], f"{entity} by {by}")
                audited += any(c["n"] is None for c in body["counts"])
        self.assertGreater(audited, 5)  # the demo has small cells to attack

    def test_no_curve_counts_its_deaths(self) -> None:
        """Over the whole registry (no entity of this small demo has five deaths) and by each grouping."""
        table = survival_table(self.truth.cases).assign(main_stage=lambda t: main_stage(t["stage_group"]))
        drawn = 0
        for by in (None, "country", "sex", "main_stage"):
            body = self.api("survival", **({"by": by} if by else {})).json()
            for group in body["groups"]:
                if group.get("curve") is None:
                    continue
                rows = table if by is None else table[table[by].astype("object").astype(str) == group["group"]]
                points = [(p["time"], p["survival"]) for p in group["curve"]]
                assert_no_small_step(points, rows["duration"].to_numpy(float), rows["event"].to_numpy(int))
                drawn += 1
        self.assertGreater(drawn, 3)

    def test_no_report_draws_a_curve_of_fewer_than_five_deaths(self) -> None:
        self.client.force_login(self.researcher)
        for entity in self.entities:
            cases = self.truth.cases[self.truth.cases["entity"] == entity]
            table = survival_table(cases).assign(main_stage=lambda t: main_stage(t["stage_group"]))
            with mock.patch.object(report_jobs, "render_pdf", return_value=b"%PDF") as render:
                self.client.get(f"/reports/{entity}/report.pdf")
            page = self.client.get(f"/reports/{entity}/").context["report"]
            for report in (page, render.call_args.args[0]):
                for key, by in (("os", None), ("os_by_stage", "main_stage")):
                    section = report.section(key)
                    if section is None or section.draw is None:
                        continue
                    figure = Figure()
                    section.draw(figure)
                    labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
                    for label, line in zip(labels, figure.axes[0].get_lines(), strict=False):
                        rows = table if by is None else table[table[by].astype("object") == label]
                        self.assertGreaterEqual(int(rows["event"].sum()), 5, (entity, key, label))
                        xs, ys = line.get_xdata(), line.get_ydata()
                        points = [(float(t) * 365.25, float(v)) for t, v in zip(xs, ys, strict=True)]
                        assert_no_small_step(points, rows["duration"].to_numpy(float), rows["event"].to_numpy(int))

    def test_the_public_pages_give_no_hidden_count_away(self) -> None:
        self.client.logout()
        for table in self.client.get("/statistics/").context["tables"]:
            assert_no_cell_recoverable([n for _label, n in table.rows], table.total, f"public {table.key}")
        home = self.client.get("/").context
        rows = [None if row["n"] == "…" else row["n"] for row in home["entity_rows"]]
        assert_no_cell_recoverable(rows, None if home["case_count"] == "…" else home["case_count"], "home")
        self.assertIn(None, rows)  # the demo has small entities: there is something to attack
