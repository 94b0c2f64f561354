"""The access log page: every read of a case, for coordinators, within their scope."""

from django.urls import reverse

from partner.cases.models import AccessLog
from partner.testing import RegistryTestCase


class AccessLogPageTests(RegistryTestCase):
    def setUp(self):
        self.padova_case = self.register(self.padova)
        self.paris_case = self.register(self.paris, given="Louise")
        self.sign_in(self.client, self.dm_padova)
        self.client.get(reverse("cases:detail", args=[self.padova_case.pk]))
        self.sign_in(self.client, self.dm_paris)
        self.client.get(reverse("cases:detail", args=[self.paris_case.pk]))

    def test_a_national_coordinator_sees_the_reads_of_their_country_only(self):
        self.sign_in(self.client, self.nc_italy)
        response = self.client.get(reverse("cases:reads"))
        reads = list(response.context["page"])
        self.assertTrue(reads)
        self.assertEqual({r.case_id for r in reads}, {self.padova_case.pk})
        self.assertIn("dm.padova", {r.user.username for r in reads})
        self.assertNotContains(response, "dm.paris")

    def test_one_case_log_and_its_own_read_is_logged(self):
        self.sign_in(self.client, self.nc_italy)
        url = reverse("cases:case_reads", args=[self.padova_case.pk])
        before = AccessLog.objects.filter(case=self.padova_case).count()
        response = self.client.get(url, {"user": "padova"})
        self.assertEqual([r.user.username for r in response.context["page"]], ["dm.padova"])
        self.assertEqual(AccessLog.objects.filter(case=self.padova_case).count(), before + 1)
        self.assertEqual(self.client.get(reverse("cases:case_reads", args=[self.paris_case.pk])).status_code, 404)

    def test_a_data_manager_may_not_read_the_log(self):
        self.sign_in(self.client, self.dm_padova)
        self.assertEqual(self.client.get(reverse("cases:reads")).status_code, 403)
        self.assertEqual(self.client.get(reverse("cases:case_reads", args=[self.padova_case.pk])).status_code, 403)

    def test_the_european_coordinator_sees_every_country(self):
        self.sign_in(self.client, self.european)
        reads = list(self.client.get(reverse("cases:reads")).context["page"])
        self.assertEqual({r.case_id for r in reads}, {self.padova_case.pk, self.paris_case.pk})
