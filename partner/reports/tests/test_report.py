from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path

from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse

from partner.cases.frames import case_frames
from partner.cases.models import TumourCase
from partner.release import Policy, Release
from partner.reports.pdf import render_pdf
from partner.reports.report import build_report
from partner.testing import RegistryTestCase

PAGE = re.compile(rb"/Type\s*/Page\b")


def _count_pages(pdf: bytes) -> int:
    return len(PAGE.findall(pdf))


class EntityReportTestCase(RegistryTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        stories = [
            # centre, diagnosed, dead on (None: alive), last contact
            ("padova", "2016-03-01", None, "2025-01-10"),
            ("padova", "2017-05-12", "2019-02-01", "2019-01-20"),
            ("padova", "2018-09-30", None, "2024-11-02"),
            ("padova", "2019-01-15", "2021-06-30", "2021-06-01"),
            ("padova", "2020-07-07", None, "2025-03-03"),
            ("padova", "2021-02-20", None, "2024-08-15"),
            ("paris", "2018-04-04", "2020-10-10", "2020-09-01"),
            ("paris", "2019-11-11", None, "2025-02-02"),
        ]
        for i, (centre, diagnosed, died, seen) in enumerate(stories):
            status = {"patient_status": "dead" if died else "alive", "last_contact_date": seen}
            if died:
                status.update(date_of_death=died, cause_of_death="tumour")
            cls.register(
                getattr(cls, centre),
                given=f"C{i}",
                born=f"{2006 + i}-06-0{1 + i}",
                diagnosed=diagnosed,
                diagnosis={
                    "diagnosis_date": diagnosed,
                    "morphology": "8370/3",
                    "topography": "C74.0",
                    "basis_of_diagnosis": "7",
                },
                status=status,
                treatment=[
                    {
                        "line_type": "surgery",
                        "treatment_start_date": diagnosed,
                        "surgery_type": "resection_primary",
                        "resection_margin": "R0",
                    }
                ],
                case_status="submitted",
            )

    def report(self, user: object, suppressed: bool = True):  # type: ignore[no-untyped-def]
        return build_report(
            case_frames(user), "ACC", self.dictionary, release=Release(None, Policy(exact=not suppressed, threshold=5))
        )


class TheReportPage(EntityReportTestCase):
    def test_it_shows_the_european_coordinator_the_survival_curve_with_the_numbers_at_risk(self) -> None:
        self.sign_in(self.client, self.european)
        response = self.client.get("/reports/ACC/")
        self.assertEqual(response.status_code, 200)
        html = response.content.decode()
        self.assertIn("<svg", html)
        self.assertIn("Overall survival", html)
        self.assertIn("Numbers at risk", html)
        self.assertEqual(response.context["report"].children, 8)
        self.assertFalse(response.context["report"].suppressed)
        risk = response.context["report"].tables["at_risk"].frame
        self.assertEqual(risk["0"].iloc[0], "8")

    def test_it_hides_a_small_country_from_a_researcher(self) -> None:
        self.sign_in(self.client, self.researcher)
        response = self.client.get("/reports/ACC/")
        self.assertEqual(response.status_code, 200)
        cohort = response.context["report"].tables["cohort"].frame
        france = cohort[(cohort["Characteristic"] == "Country") & (cohort["Level"] == "FR")]
        self.assertEqual(france["Children"].tolist(), ["<5"])
        self.assertNotEqual(cohort.loc[cohort["Level"] == "IT", "Children"].tolist(), ["6"])
        self.assertIn("&lt;5", response.content.decode())

    def test_it_answers_404_for_an_unknown_entity(self) -> None:
        self.sign_in(self.client, self.european)
        self.assertEqual(self.client.get("/reports/NOPE/").status_code, 404)

    def test_it_asks_a_stranger_to_log_in(self) -> None:
        response = self.client.get("/reports/ACC/")
        self.assertEqual(response.status_code, 302)

    def test_a_draft_is_not_counted_until_it_is_submitted(self) -> None:
        draft = self.register(self.padova, given="Draft")
        self.sign_in(self.client, self.european)
        self.assertEqual(self.client.get("/reports/ACC/").context["report"].children, 8)
        TumourCase.objects.filter(pk=draft.pk).update(status="submitted")
        self.assertEqual(self.client.get("/reports/ACC/").context["report"].children, 9)

    def test_a_data_manager_in_paris_counts_no_padova_case(self) -> None:
        report = self.report(self.dm_paris, suppressed=False)
        self.assertEqual(report.children, 2)
        self.assertIsNone(report.section("os").draw)
        self.sign_in(self.client, self.dm_paris)
        response = self.client.get("/reports/ACC/")
        self.assertEqual(response.context["report"].children_shown, "<5")  # 2, protected for a data manager
        self.assertNotIn("<svg", response.content.decode())


class TheDownloads(EntityReportTestCase):
    def test_the_pdf_opens_with_the_summary_and_flows_its_sections_over_the_pages(self) -> None:
        self.sign_in(self.client, self.european)
        job = self.client.get("/reports/ACC/report.pdf", follow=True).context["job"]  # drawn by the worker
        response = self.client.get(reverse("jobs:download", args=[job.pk]))
        self.assertEqual(response["Content-Type"], "application/pdf")
        self.assertTrue(response.content.startswith(b"%PDF"))
        # the summary and the first sections, then the figures and tables flowing over the pages
        self.assertGreaterEqual(_count_pages(response.content), 2)

    def test_a_pdf_is_never_made_from_an_unsuppressed_report(self) -> None:
        with self.assertRaises(ValueError):
            render_pdf(self.report(self.european, suppressed=False))

    def test_a_table_downloads_as_csv_and_all_of_them_as_a_zip(self) -> None:
        self.sign_in(self.client, self.researcher)
        response = self.client.get("/reports/ACC/treatment.csv")
        self.assertEqual(response.status_code, 200)
        surgery = re.search(r"Surgery,(\d+),100\n", response.content.decode())
        self.assertIsNotNone(surgery)  # every case, the same set as the total: the same count, 100 %
        self.assertLessEqual(abs(int(surgery.group(1)) - 8), 2)  # 8 cases, changed by at most 2 by their cell key
        self.assertEqual(self.client.get("/reports/ACC/nothing.csv").status_code, 404)
        archive = self.client.get("/reports/ACC/tables.zip")
        self.assertTrue(archive.content.startswith(b"PK"))


class TheReportCommand(EntityReportTestCase):
    def test_it_writes_the_pdf_of_the_whole_registry(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "x.pdf"
            stdout = io.StringIO()
            call_command("report", "ACC", "--out", str(out), stdout=stdout)
            pdf = out.read_bytes()
        self.assertTrue(pdf.startswith(b"%PDF"))
        self.assertGreaterEqual(_count_pages(pdf), 2)
        children = re.search(r"(\d+) children", stdout.getvalue())
        self.assertIsNotNone(children)
        self.assertLessEqual(abs(int(children.group(1)) - 8), 2)  # the whole registry, protected

    def test_it_names_an_unknown_entity(self) -> None:
        with self.assertRaisesMessage(CommandError, "NOPE: no such entity"):
            call_command("report", "NOPE", stdout=io.StringIO())

    @override_settings(PARTNER_MIN_CELL_COUNT=10)
    def test_it_hides_the_curve_under_the_configured_threshold(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "x.pdf"
            stdout = io.StringIO()
            call_command("report", "ACC", "--out", str(out), stdout=stdout)
            pdf = out.read_bytes()
        self.assertIn("<10 children", stdout.getvalue())
        self.assertTrue(pdf.startswith(b"%PDF"))
        report = build_report(
            case_frames(self.european), "ACC", self.dictionary, release=Release(None, Policy(exact=False, threshold=10))
        )
        self.assertIsNone(report.section("os").draw)
        self.assertIn("No curve: fewer than 10 children", " ".join(report.section("os").notes))
        self.assertIsNone(report.section("os_by_stage"))
