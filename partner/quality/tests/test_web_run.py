"""A coordinator runs every quality rule over the cases of their scope from the dashboard; the worker does it."""

from django.urls import reverse

from partner.jobs.models import Job
from partner.quality.models import Finding
from partner.testing import RegistryTestCase


class TheRunFromTheDashboard(RegistryTestCase):
    def setUp(self):
        self.italian = self.register(self.padova, case_status="submitted")
        self.french = self.register(self.paris, case_status="submitted")
        Finding.objects.all().delete()  # as if the rules had never run

    def test_a_national_coordinator_runs_the_rules_over_their_country_only(self):
        self.sign_in(self.client, self.nc_italy)
        self.assertContains(self.client.get(reverse("quality:dashboard")), f'action="{reverse("quality:run")}"')
        page = self.client.post(reverse("quality:run"), follow=True)
        self.assertEqual(page.context["job"].state, Job.State.DONE)
        self.assertContains(page, "1 case checked:")
        self.assertTrue(Finding.objects.filter(case=self.italian).exists())
        self.assertFalse(Finding.objects.filter(case=self.french).exists())

    def test_a_data_manager_may_not_and_is_not_offered_it(self):
        self.sign_in(self.client, self.dm_padova)
        self.assertNotContains(self.client.get(reverse("quality:dashboard")), reverse("quality:run"))
        self.assertEqual(self.client.post(reverse("quality:run")).status_code, 403)
        self.assertFalse(Job.objects.filter(kind="qc_run").exists())


class TheMenu(RegistryTestCase):
    def test_it_offers_the_dashboard_only_to_those_it_is_for(self):
        for user, offered in (
            (self.dm_padova, True),
            (self.nc_italy, True),
            (self.expert, False),
            (self.researcher, False),
        ):
            with self.subTest(user=user.username):
                self.sign_in(self.client, user)
                page = self.client.get(reverse("work:index"))
                self.assertEqual(f'href="{reverse("quality:dashboard")}"' in page.content.decode(), offered)
                status = self.client.get(reverse("quality:dashboard")).status_code
                self.assertEqual(status, 200 if offered else 403)
