"""The cases API: tokens, scoping (404 out of scope), access log, validation, and no lost update (409)."""

import io

from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from partner.accounts.models import ApiToken
from partner.cases.models import AccessLog, FormRecord, Status
from partner.testing import RegistryTestCase


class CaseApiTests(RegistryTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.padova_case = cls.register(cls.padova)
        cls.paris_case = cls.register(cls.paris, given="Léa", family="Martin", morphology="8720/3", topography="C44.5")

    def bearer(self, user):
        _, key = ApiToken.issue(user, "test")
        return {"authorization": f"Bearer {key}"}

    def test_without_a_token_the_api_answers_401(self):
        self.assertEqual(self.client.get("/api/cases").status_code, 401)
        self.assertEqual(
            self.client.get("/api/cases", headers={"authorization": "Bearer prt_nonsense"}).status_code, 401
        )

    def test_a_token_sees_the_cases_of_its_users_scope_only(self):
        response = self.client.get("/api/cases", headers=self.bearer(self.dm_paris))
        self.assertEqual([c["id"] for c in response.json()["items"]], [self.paris_case.pk])
        headers = self.bearer(self.dm_paris)
        self.assertEqual(self.client.get(f"/api/cases/{self.padova_case.pk}", headers=headers).status_code, 404)
        self.assertEqual(self.client.get(f"/api/cases/{self.paris_case.pk}", headers=headers).status_code, 200)
        everything = self.client.get("/api/cases", headers=self.bearer(self.european)).json()
        self.assertEqual(everything["count"], 2)
        self.assertEqual(self.client.get("/api/cases", headers=self.bearer(self.researcher)).json()["count"], 0)

    def test_a_page_beyond_what_a_database_counts_is_refused_with_422(self):
        headers = self.bearer(self.dm_paris)
        for parameter in ("offset", "limit"):
            response = self.client.get(f"/api/patients?{parameter}={2**63}", headers=headers)
            self.assertEqual(response.status_code, 422, parameter)
        far = self.client.get(f"/api/patients?offset={2**63 - 1}&limit={2**63 - 1}", headers=headers)
        self.assertEqual((far.status_code, far.json()["items"]), (200, []))

    def test_a_read_through_the_api_is_in_the_access_log(self):
        self.client.get(f"/api/cases/{self.paris_case.pk}", headers=self.bearer(self.dm_paris))
        self.assertEqual(list(AccessLog.objects.values_list("user__username", "channel")), [("dm.paris", "api")])

    def test_a_revoked_token_no_longer_works(self):
        token, key = ApiToken.issue(self.dm_paris, "laptop")
        token.revoked = timezone.now()
        token.save()
        self.assertEqual(self.client.get("/api/cases", headers={"authorization": f"Bearer {key}"}).status_code, 401)

    def test_only_the_hash_of_a_token_is_stored(self):
        token, key = ApiToken.issue(self.dm_paris, "laptop")
        self.assertNotIn(key, [token.digest, token.hint])
        self.assertEqual(token.digest, ApiToken.digest_of(key))

    def _patch(self, user, version, **values):
        return self.client.patch(
            f"/api/cases/{self.padova_case.pk}/records/diagnosis/1",
            {"version": version, "values": {**self._diagnosis(), **values}},
            content_type="application/json",
            headers=self.bearer(user),
        )

    def _diagnosis(self):
        values = FormRecord.objects.get(case=self.padova_case, form__code="diagnosis").values
        return {k: v for k, v in values.items() if k not in ("age_at_diagnosis", "age_at_onset")}

    def test_a_change_with_the_current_version_is_saved_with_its_author(self):
        response = self._patch(self.dm_padova, 1, diagnosis_date="2024-02-12")
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["version"], 2)
        record = FormRecord.objects.get(case=self.padova_case, form__code="diagnosis")
        self.assertEqual(record.values["diagnosis_date"], "2024-02-12")
        self.assertEqual(record.history.first().history_user, self.dm_padova)

    def test_a_stale_version_gets_409_with_the_newer_values_and_changes_nothing(self):
        self.assertEqual(self._patch(self.dm_padova, 1, diagnosis_date="2024-02-12").status_code, 200)
        response = self._patch(self.nc_italy, 1, diagnosis_date="2024-02-15")
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json()["current"]["values"]["diagnosis_date"], "2024-02-12")
        record = FormRecord.objects.get(case=self.padova_case, form__code="diagnosis")
        self.assertEqual((record.version, record.values["diagnosis_date"]), (2, "2024-02-12"))

    def test_invalid_values_get_422_naming_the_field(self):
        response = self._patch(self.dm_padova, 1, morphology="8370")
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "morphology")

    def test_a_user_out_of_scope_cannot_change_a_record(self):
        self.assertEqual(self._patch(self.dm_paris, 1, diagnosis_date="2024-02-12").status_code, 404)

    def test_a_locked_case_cannot_be_changed(self):
        self.padova_case.status = Status.LOCKED
        self.padova_case.save()
        response = self._patch(self.dm_padova, 1, diagnosis_date="2024-02-12")
        self.assertEqual(response.status_code, 409)
        self.assertIn("locked", response.json()["detail"])


class TokenCommandTests(RegistryTestCase):
    def test_it_prints_a_working_token_once(self):
        out = io.StringIO()
        call_command("token", "create", "dm.padova", "--name", "analysis", stdout=out, stderr=io.StringIO())
        key = out.getvalue().strip()
        self.assertTrue(key.startswith("prt_"))
        self.assertEqual(self.client.get("/api/cases", headers={"authorization": f"Bearer {key}"}).status_code, 200)
        call_command("token", "revoke", key[:10], stdout=io.StringIO())
        self.assertEqual(self.client.get("/api/cases", headers={"authorization": f"Bearer {key}"}).status_code, 401)

    def test_an_unknown_user_is_a_clear_error(self):
        with self.assertRaisesMessage(CommandError, "no active user 'nobody'"):
            call_command("token", "create", "nobody", stdout=io.StringIO())
