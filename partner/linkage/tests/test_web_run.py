"""The European coordinator compares the new encodings from the review page; the worker does it."""

from unittest import mock

from django.urls import reverse

from partner.jobs.models import Job
from partner.linkage.models import CandidatePair
from partner.testing import RegistryTestCase


class TheComparisonFromThePage(RegistryTestCase):
    def setUp(self):
        self.register(self.padova, given="Giulia", family="Rossetti", born="2012-05-04")
        self.register(self.paris, given="Giulia", family="Rosetti", born="2012-05-04")

    def test_the_coordinator_starts_it_and_reads_what_it_found_on_its_page(self):
        self.sign_in(self.client, self.european)
        self.assertContains(self.client.get(reverse("linkage:queue")), f'action="{reverse("linkage:run")}"')
        with mock.patch("partner.linkage.jobs.os.cpu_count", return_value=1):  # no process pool in a test
            page = self.client.post(reverse("linkage:run"), follow=True)
        job = page.context["job"]
        self.assertEqual((job.kind, job.state), ("linkage_run", Job.State.DONE))
        self.assertContains(page, "2 new encodings compared with 2: 1 new candidate pairs.")
        self.assertEqual(CandidatePair.objects.count(), 1)

    def test_no_one_else_may_start_it(self):
        for user in (self.nc_italy, self.dm_padova, self.researcher):
            self.sign_in(self.client, user)
            self.assertEqual(self.client.post(reverse("linkage:run")).status_code, 403)
        self.assertFalse(Job.objects.exists())
