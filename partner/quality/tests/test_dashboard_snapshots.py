"""The quality dashboard answers at once from figures the worker computed, and asks for new ones when
cases change or the figures grow old."""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from partner.jobs.models import Job
from partner.jobs.tasks import run_job
from partner.quality import views_dashboard
from partner.quality.models import DashboardSnapshot
from partner.testing import RegistryTestCase

DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@override_settings(TASKS=DATABASE_QUEUE)
class TheDashboardReadsItsFigures(RegistryTestCase):
    def setUp(self) -> None:
        self.register(self.padova, case_status="submitted")
        self.sign_in(self.client, self.nc_italy)

    def work_the_queue(self) -> None:
        for job in Job.objects.filter(state=Job.State.QUEUED):
            run_job.call(str(job.pk))

    def test_the_first_visit_answers_without_computing_and_shows_the_figures_once_the_worker_has(self) -> None:
        with mock.patch.object(views_dashboard, "_completeness", side_effect=AssertionError("in the request")):
            page = self.client.get(reverse("quality:dashboard"))
        self.assertContains(page, "The figures are being computed")
        self.assertContains(page, 'hx-trigger="every 2s"')
        self.assertEqual(Job.objects.filter(kind="quality_dashboard", state=Job.State.QUEUED).count(), 1)
        self.client.get(reverse("quality:dashboard"))  # a reload asks once
        self.assertEqual(Job.objects.filter(kind="quality_dashboard").count(), 1)
        self.work_the_queue()
        page = self.client.get(reverse("quality:dashboard"))
        self.assertContains(page, "Figures of ")
        self.assertNotContains(page, "being computed")
        self.assertEqual(page.context["cases_counted"], 1)

    def test_a_changed_case_shows_the_last_figures_and_asks_for_new_ones(self) -> None:
        self.client.get(reverse("quality:dashboard"))
        self.work_the_queue()
        self.register(self.padova, "Anna", case_status="submitted")  # a case saved: the figures are out of date
        self.assertTrue(DashboardSnapshot.objects.get().stale)
        page = self.client.get(reverse("quality:dashboard"))
        self.assertEqual(page.context["cases_counted"], 1)  # the last figures, at once
        self.assertContains(page, "new figures are being computed")
        self.work_the_queue()
        self.assertEqual(self.client.get(reverse("quality:dashboard")).context["cases_counted"], 2)

    def test_figures_older_than_ten_minutes_are_computed_again(self) -> None:
        self.client.get(reverse("quality:dashboard"))
        self.work_the_queue()
        DashboardSnapshot.objects.update(computed=timezone.now() - timedelta(minutes=11))
        self.client.get(reverse("quality:dashboard"))
        self.assertEqual(Job.objects.filter(kind="quality_dashboard", state=Job.State.QUEUED).count(), 1)

    def test_each_reader_has_figures_of_their_own_scope(self) -> None:
        self.register(self.paris, case_status="submitted")
        self.client.get(reverse("quality:dashboard"))
        self.work_the_queue()
        self.sign_in(self.client, self.european)
        self.client.get(reverse("quality:dashboard"))
        self.work_the_queue()
        italy = self.client.get(reverse("quality:dashboard")).context["cases_counted"]
        self.sign_in(self.client, self.nc_italy)
        self.assertEqual((italy, self.client.get(reverse("quality:dashboard")).context["cases_counted"]), (2, 1))

    def test_the_refresh_is_not_listed_as_the_readers_work(self) -> None:
        self.client.get(reverse("quality:dashboard"))
        self.assertNotContains(self.client.get(reverse("jobs:list")), "Quality dashboard figures")
