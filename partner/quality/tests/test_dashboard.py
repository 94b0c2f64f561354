"""The quality dashboard: each user sees the numbers of their own scope, and each figure comes with its table."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pandas as pd
from django.urls import reverse
from django.utils import timezone

from partner.cases.models import Status, TumourCase
from partner.quality import dashboard
from partner.quality.models import Finding, FindingStatus, Query, QueryStatus
from partner.testing import RegistryTestCase

NOW = timezone.now()


class DashboardTestCase(RegistryTestCase):
    padova_case: TumourCase
    milano_case: TumourCase
    paris_case: TumourCase

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.padova_case = cls.submitted(cls.register(cls.padova, "Giulia", "Rossi"))
        cls.milano_case = cls.submitted(cls.register(cls.milano, "Marco", "Bianchi", sex="male"))
        cls.paris_case = cls.submitted(cls.register(cls.paris, "Camille", "Martin"))
        cls.finding(cls.padova_case, "PADOVA-RULE", "error")
        cls.finding(cls.padova_case, "SHARED-RULE", "warning", values="a")
        cls.finding(cls.milano_case, "SHARED-RULE", "warning", values="b")
        cls.finding(cls.milano_case, "MILANO-RULE", "query")
        cls.finding(cls.paris_case, "PARIS-RULE", "error")
        cls.finding(cls.padova_case, "RESOLVED-RULE", "error", status=FindingStatus.RESOLVED)

    @staticmethod
    def submitted(case: TumourCase) -> TumourCase:
        TumourCase.objects.filter(pk=case.pk).update(status=Status.SUBMITTED)
        case.refresh_from_db()
        return case

    @staticmethod
    def finding(case: TumourCase, rule: str, severity: str, values: str = "x", **kwargs: Any) -> Finding:
        field = "diagnosis.morphology"
        return Finding.objects.create(case=case, rule=rule, severity=severity, field=field, values=values, **kwargs)

    def query(
        self, case: TumourCase, raised_days_ago: float, answered_after: float | None = None, **kwargs: Any
    ) -> Query:
        kwargs.setdefault("due", dt.date.today())
        query = Query.objects.create(
            case=case, field="diagnosis.morphology", question="?", raised_by=self.nc_italy, **kwargs
        )
        raised = NOW - dt.timedelta(days=raised_days_ago)
        answered = raised + dt.timedelta(days=answered_after) if answered_after is not None else None
        Query.objects.filter(pk=query.pk).update(raised_at=raised, answered_at=answered)
        return query

    def page(self, user: Any, by: str = "country") -> Any:
        self.sign_in(self.client, user)
        return self.client.get(reverse("quality:dashboard"), {"by": by})


class WhoSeesTheDashboard(DashboardTestCase):
    def test_it_sends_an_anonymous_visitor_to_log_in(self) -> None:
        response = self.client.get(reverse("quality:dashboard"))
        self.assertEqual(response.status_code, 302)
        self.assertIn("/accounts/login/", response["Location"])

    def test_it_refuses_experts_and_researchers(self) -> None:
        for user in (self.expert, self.researcher):
            with self.subTest(user=user.username):
                self.assertEqual(self.page(user).status_code, 403)

    def test_it_shows_the_page_to_centres_and_coordinators(self) -> None:
        for user in (self.dm_padova, self.dm_paris, self.nc_italy, self.european):
            with self.subTest(user=user.username):
                self.assertEqual(self.page(user).status_code, 200)


class WhatEachUserSees(DashboardTestCase):
    def test_the_national_coordinator_sees_italy_and_nothing_of_france(self) -> None:
        self.query(self.paris_case, 3)
        response = self.page(self.nc_italy, by="centre")
        html = response.content.decode()
        for shown in ("IT-PD", "IT-MI", "PADOVA-RULE", "MILANO-RULE", "SHARED-RULE"):
            self.assertIn(shown, html)
        for hidden in ("FR-PA", "PARIS-RULE", "RESOLVED-RULE"):
            self.assertNotIn(hidden, html)
        self.assertEqual(response.context["cases_counted"], 2)
        self.assertEqual(response.context["findings"]["total"], 4)
        self.assertEqual(response.context["queries"]["waiting"], 0)
        shared = next(r for r in response.context["findings"]["rows"] if r["rule"] == "SHARED-RULE")
        self.assertEqual((shared["n"], sorted(shared["groups"])), (2, [["IT-MI", 1], ["IT-PD", 1]]))  # as kept, in JSON

    def test_the_national_coordinators_countries_are_italy_only(self) -> None:
        response = self.page(self.nc_italy, by="country")
        self.assertEqual(response.context["completeness"]["groups"], ["IT"])
        self.assertNotIn(">FR<", response.content.decode())

    def test_a_data_manager_sees_their_centre_only(self) -> None:
        response = self.page(self.dm_padova, by="centre")
        html = response.content.decode()
        self.assertIn("IT-PD", html)
        self.assertIn("PADOVA-RULE", html)
        for hidden in ("IT-MI", "MILANO-RULE", "FR-PA", "PARIS-RULE"):
            self.assertNotIn(hidden, html)
        self.assertEqual(response.context["findings"]["total"], 2)

    def test_the_european_coordinator_sees_every_country(self) -> None:
        response = self.page(self.european, by="country")
        self.assertEqual(response.context["completeness"]["groups"], ["FR", "IT"])
        self.assertIn("PARIS-RULE", response.content.decode())

    def test_completeness_counts_the_scopes_cases(self) -> None:
        response = self.page(self.nc_italy, by="centre")
        sex = next(r for r in response.context["completeness"]["rows"] if r["label"] == "Sex")
        self.assertEqual(response.context["completeness"]["groups"], ["IT-MI", "IT-PD"])
        self.assertEqual([(c["filled"], c["expected"]) for c in sex["cells"]], [(1, 1), (1, 1)])
        self.assertEqual((sex["all"]["filled"], sex["all"]["expected"]), (2, 2))

    def test_it_groups_by_entity_and_falls_back_to_country(self) -> None:
        entity = self.padova_case.entity.code
        self.assertIn(entity, self.page(self.dm_padova, by="entity").context["completeness"]["groups"])
        self.assertEqual(self.page(self.dm_padova, by="status").context["by"], "country")


class QueryNumbers(DashboardTestCase):
    def test_the_median_time_to_answer_over_three_queries(self) -> None:
        self.query(self.padova_case, 30, answered_after=2, status=QueryStatus.CLOSED)
        self.query(self.padova_case, 20, answered_after=5, status=QueryStatus.ANSWERED)
        self.query(self.milano_case, 40, answered_after=11, status=QueryStatus.CLOSED)
        self.query(self.milano_case, 50)  # never answered: not counted
        self.query(self.paris_case, 200, answered_after=100, status=QueryStatus.CLOSED)  # out of scope
        queries = self.page(self.nc_italy, by="centre").context["queries"]
        self.assertAlmostEqual(queries["median"], 5.0)
        self.assertEqual(queries["answered"], 3)
        times = {row["group"]: (row["answered"], row["median"]) for row in queries["times"]}
        self.assertEqual(times, {"IT-MI": (1, 11.0), "IT-PD": (2, 3.5)})

    def test_open_queries_fall_in_age_bands(self) -> None:
        self.query(self.padova_case, 2)
        self.query(self.padova_case, 45, answered_after=3, status=QueryStatus.ANSWERED)
        self.query(self.padova_case, 120, due=dt.date.today() - dt.timedelta(days=60))
        self.query(self.padova_case, 10, answered_after=1, status=QueryStatus.CLOSED)  # closed: not waiting
        queries = self.page(self.dm_padova, by="centre").context["queries"]
        (row,) = queries["ages"]
        self.assertEqual((row["group"], row["bands"], row["total"]), ("IT-PD", [1, 0, 1, 1], 3))
        self.assertEqual((row["overdue"], row["oldest"]), (1, 120))


class Figures(DashboardTestCase):
    def test_the_page_has_four_named_figures_each_with_a_caption(self) -> None:
        self.query(self.padova_case, 4, answered_after=1, status=QueryStatus.ANSWERED)
        html = self.page(self.european).content.decode()
        self.assertEqual(len(re.findall(r'<svg[^>]*role="img"[^>]*aria-label="[^"]+"', html)), 4)
        self.assertEqual(html.count("<figcaption"), 4)
        self.assertNotIn("<?xml", html)
        ids = re.findall(r'\sid="([^"]+)"', html)
        self.assertEqual(len(ids), len(set(ids)), "an element id is used twice")

    def test_each_figure_is_an_svg_with_a_title(self) -> None:
        now = pd.Timestamp("2026-06-01", tz="UTC")
        raised = pd.to_datetime(["2026-05-01", "2026-04-01", "2026-05-20"], utc=True)
        counts = pd.DataFrame(
            {
                "group": ["IT", "FR", "IT"],
                "rule": ["A", "A", "B"],
                "severity": ["error", "error", "warning"],
                "n": [3, 2, 1],
            }
        )
        waiting = pd.DataFrame({"group": ["IT", "IT", "FR"], "raised_at": raised, "due": [now.date()] * 3})
        answered = waiting.assign(answered_at=raised + pd.Timedelta(days=4))
        matrix = pd.DataFrame({"IT": [1.0, 0.5], "FR": [0.25, float("nan")]}, index=["Sex", "Date of birth"])
        figures = {
            "Open findings by rule and severity": dashboard.findings_figure(dashboard.findings_by_rule(counts)),
            "Queries not yet closed, by age": dashboard.query_age_figure(dashboard.query_ages(waiting, now), "country"),
            "Median days from a query to its first answer": dashboard.answer_time_figure(
                dashboard.answer_times(answered), "country"
            ),
            "Completeness of the required fields": dashboard.completeness_figure(matrix, "country"),
        }
        for title, svg in figures.items():
            with self.subTest(title=title):
                self.assertTrue(svg.startswith("<svg"))
                self.assertIn(f"<title>{title}</title>", svg)
                self.assertIn(f'aria-label="{title}"', svg)
                self.assertIn(f">{title}</text>", svg)  # drawn as text, so it reads and translates

    def test_figures_without_data_say_so(self) -> None:
        empty = pd.DataFrame(columns=["group", "rule", "severity", "n"])
        svg = dashboard.findings_figure(dashboard.findings_by_rule(empty))
        self.assertIn("No open finding.", svg)
        no_queries = pd.DataFrame(columns=["group", "raised_at", "due", "answered_at"])
        now = pd.Timestamp("2026-06-01", tz="UTC")
        self.assertIn("No query waiting.", dashboard.query_age_figure(dashboard.query_ages(no_queries, now), "centre"))
        self.assertIn(
            "No query answered yet.", dashboard.answer_time_figure(dashboard.answer_times(no_queries), "centre")
        )


class AnEmptyRegistry(RegistryTestCase):
    def test_the_page_shows_with_nothing_to_count(self) -> None:
        self.sign_in(self.client, self.european)
        response = self.client.get(reverse("quality:dashboard"), {"by": "entity"})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "No case to count yet.")
        self.assertContains(response, "No open finding.")
        self.assertIsNone(response.context["queries"]["median"])
