"""Case pages for every role: in scope they show, out of scope they are 404, and every read is logged."""

from django.urls import reverse

from partner.cases.models import AccessLog, FormRecord
from partner.testing import RegistryTestCase

PAGES = ("cases:detail", "cases:history")


class CasePageScopeTests(RegistryTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.padova_case = cls.register(cls.padova)
        cls.paris_case = cls.register(cls.paris, given="Léa", family="Martin", morphology="8720/3", topography="C44.5")

    def _status(self, user, page, case):
        self.sign_in(self.client, user)
        return self.client.get(reverse(page, args=[case.pk])).status_code

    def test_each_role_sees_exactly_its_scope(self):
        expected = {
            "dm_padova": {"padova_case": 200, "paris_case": 404},
            "dm_paris": {"padova_case": 404, "paris_case": 200},
            "nc_italy": {"padova_case": 200, "paris_case": 404},
            "european": {"padova_case": 200, "paris_case": 200},
            "expert": {"padova_case": 404, "paris_case": 404},
            "researcher": {"padova_case": 404, "paris_case": 404},
        }
        for user_name, cases in expected.items():
            for case_name, status in cases.items():
                for page in PAGES:
                    with self.subTest(user=user_name, case=case_name, page=page):
                        self.assertEqual(self._status(getattr(self, user_name), page, getattr(self, case_name)), status)

    def test_the_list_shows_only_cases_in_scope(self):
        self.sign_in(self.client, self.dm_paris)
        response = self.client.get(reverse("cases:list"))
        self.assertEqual([c.pk for c in response.context["rows"]], [self.paris_case.pk])
        self.assertNotContains(response, self.padova_case.patient.pseudonym[:12])

    def test_a_visitor_who_is_not_logged_in_is_sent_to_log_in(self):
        response = self.client.get(reverse("cases:detail", args=[self.padova_case.pk]))
        self.assertRedirects(response, f"/accounts/login/?next=/cases/{self.padova_case.pk}/")

    def test_every_read_is_in_the_access_log_and_a_refused_one_is_not(self):
        self._status(self.nc_italy, "cases:detail", self.padova_case)
        self._status(self.dm_paris, "cases:detail", self.padova_case)
        self.assertEqual(
            list(AccessLog.objects.values_list("user__username", "case_id", "channel")),
            [("nc.italy", self.padova_case.pk, "web")],
        )

    def test_the_access_log_is_append_only(self):
        self._status(self.nc_italy, "cases:detail", self.padova_case)
        entry = AccessLog.objects.get()
        with self.assertRaises(PermissionError):
            entry.save()
        with self.assertRaises(PermissionError):
            entry.delete()
        with self.assertRaises(PermissionError):
            AccessLog.objects.all().delete()
        self.assertEqual(AccessLog.objects.count(), 1)

    def test_the_case_page_shows_labels_and_choice_labels_in_the_users_language(self):
        self.sign_in(self.client, self.dm_padova)
        response = self.client.get(
            reverse("cases:detail", args=[self.padova_case.pk]), headers={"accept-language": "it"}
        )
        sex = next(f for f in self.dictionary.form_by_code["registration"].fields if f.code == "sex")
        self.assertContains(response, sex.labels.it)
        self.assertContains(response, next(c.labels.it for c in sex.choices if c.code == "female"))

    def test_the_history_shows_who_changed_which_field_from_what_to_what(self):
        record = FormRecord.objects.get(case=self.padova_case, form__code="diagnosis")
        record.values = {**record.values, "diagnosis_date": "2024-02-11"}
        record._history_user = self.dm_padova
        record.save()
        self.sign_in(self.client, self.dm_padova)
        url = reverse("cases:history", args=[self.padova_case.pk])
        response = self.client.get(url, headers={"accept-language": "it"})
        save = next(s for s in response.context["saves"] if any(c.old == "10/02/2024" for c in s.changes))
        change = next(c for c in save.changes if c.old == "10/02/2024")  # in the user's locale
        self.assertEqual((change.new, save.who), ("11/02/2024", self.dm_padova))
        self.assertContains(response, "dm.padova")
