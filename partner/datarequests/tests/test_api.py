"""Data requests over the API: the same rules and messages as the pages, with personal tokens."""

import json

from partner.accounts.models import ApiToken
from partner.datarequests.extract import row_id
from partner.datarequests.models import DataRequest, RequestStatus

from .story import DataRequestTestCase, rows, unzip


class ApiTests(DataRequestTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.keys = {user.pk: ApiToken.issue(user, "api")[1] for user in (cls.researcher, cls.european)}

    def call(self, user, method, url, body=None):
        data = json.dumps(body) if body is not None else ""
        headers = {"authorization": f"Bearer {self.keys[user.pk]}"}
        return self.client.generic(method, url, data, content_type="application/json", headers=headers)

    def test_submit_approve_and_download_through_the_api(self):
        body = {
            "title": "Relapse after ACC",
            "purpose": "Time to relapse by stage.",
            "variables": ["diagnosis.stage_group", "follow_up.event_type"],
            "cohort": {"entities": ["ACC"], "countries": ["IT"]},
        }
        response = self.call(self.researcher, "POST", "/api/requests", body)
        self.assertEqual(response.status_code, 201, response.content)
        created = response.json()
        self.assertEqual((created["status"], created["requester"]), ("submitted", "researcher"))
        self.assertEqual(created["cohort"]["countries"], ["IT"])
        self.assertEqual([h["event"] for h in created["history"]], ["submitted"])
        self.assertNotIn("salt", created)
        pk = created["id"]
        response = self.call(self.european, "POST", f"/api/requests/{pk}/decision", {"decision": "approved"})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual((response.json()["status"], response.json()["decided_by"]), ("approved", "ec.europe"))
        response = self.call(self.researcher, "GET", f"/api/requests/{pk}/extract")
        self.assertEqual((response.status_code, response["Content-Type"]), (200, "application/zip"))
        files = unzip(response.content)
        salt = DataRequest.objects.get(pk=pk).salt
        cases = rows(files["cases.csv"])
        self.assertEqual(
            {r["row_id"] for r in cases}, {row_id(salt, self.acc_padova.pk), row_id(salt, self.acc_locked.pk)}
        )
        self.assertEqual([r["follow_up.event_type"] for r in rows(files["follow_up.csv"])], ["relapse"])
        detail = self.call(self.researcher, "GET", f"/api/requests/{pk}").json()
        self.assertEqual(detail["download_count"], 1)
        self.assertEqual(detail["history"][0]["event"], "extract downloaded (1)")

    def test_an_unknown_variable_is_answered_422_naming_it(self):
        body = {"title": "T", "purpose": "P", "variables": ["diagnosis.weiss"], "cohort": {"entities": ["XYZ"]}}
        response = self.call(self.researcher, "POST", "/api/requests", body)
        self.assertEqual(response.status_code, 422)
        errors = {e["field"]: e["message"] for e in response.json()["errors"]}
        self.assertIn("diagnosis.weiss", errors["variables"])
        self.assertIn("XYZ", errors["cohort.entities"])
        self.assertIn("diagnosis.weiss", response.json()["detail"])
        self.assertFalse(DataRequest.objects.exists())

    def test_an_unknown_cohort_filter_is_refused(self):
        body = {"title": "T", "purpose": "P", "variables": ["registration.sex"], "cohort": {"colour": ["red"]}}
        self.assertEqual(self.call(self.researcher, "POST", "/api/requests", body).status_code, 422)
        self.assertFalse(DataRequest.objects.exists())

    def test_a_rejection_without_a_note_is_answered_422_and_decides_nothing(self):
        item = self.submit()
        response = self.call(self.european, "POST", f"/api/requests/{item.pk}/decision", {"decision": "rejected"})
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "note")
        item.refresh_from_db()
        self.assertEqual(item.status, RequestStatus.SUBMITTED)

    def test_withdrawing_twice_is_a_conflict(self):
        item = self.submit()
        self.assertEqual(self.call(self.researcher, "POST", f"/api/requests/{item.pk}/withdraw").status_code, 200)
        response = self.call(self.researcher, "POST", f"/api/requests/{item.pk}/withdraw")
        self.assertEqual(response.status_code, 409)
        self.assertIn("is withdrawn", response.json()["detail"])

    def test_an_extract_of_a_request_not_approved_is_a_conflict(self):
        item = self.submit()
        response = self.call(self.researcher, "GET", f"/api/requests/{item.pk}/extract")
        self.assertEqual(response.status_code, 409)
        self.assertIn("only an approved request has an extract", response.json()["detail"])
