"""draft -> submitted -> validated -> locked: who may move a case, and what a submitted case must hold."""

import datetime as dt
import random

from django.urls import reverse

from partner.accounts.models import ApiToken
from partner.cases.demo import _Filler
from partner.cases.models import FormRecord, Status, TumourCase
from partner.cases.services import current_forms, validate_case
from partner.testing import RegistryTestCase


class StatusWorkflowTests(RegistryTestCase):
    def setUp(self):
        self.case = self.register(self.padova)

    def _complete(self):
        """Fill every field the full validation still asks for, the way a data manager would."""
        _, errors = validate_case(self.dictionary, current_forms(self.dictionary, self.case), partial=False)
        filler = _Filler(random.Random(1), (dt.date(2024, 2, 10), dt.date(2024, 6, 1)))
        forms = current_forms(self.dictionary, self.case)
        for code in {e.form for e in errors}:
            form = self.dictionary.form_by_code[code]
            given = forms.get(code, {})
            values = filler.fill(form, given if isinstance(given, dict) else {}, {}, optional=0.0)
            record, _ = FormRecord.objects.get_or_create(
                case=self.case, form=self.case.dictionary_version.forms.get(code=code), number=1
            )
            record.values = {**record.values, **values}
            record.save()

    def _post(self, user, to):
        self.sign_in(self.client, user)
        return self.client.post(reverse("cases:status", args=[self.case.pk]), {"to": to}, follow=True)

    def test_an_incomplete_case_cannot_be_submitted_and_says_what_is_missing(self):
        response = self._post(self.dm_padova, Status.SUBMITTED)
        self.case.refresh_from_db()
        self.assertEqual(self.case.status, Status.DRAFT)
        self.assertContains(response, "required")

    def test_the_whole_path_records_who_moved_the_case(self):
        self._complete()
        self._post(self.dm_padova, Status.SUBMITTED)
        self._post(self.nc_italy, Status.VALIDATED)
        self._post(self.nc_italy, Status.LOCKED)
        self.case.refresh_from_db()
        self.assertEqual(self.case.status, Status.LOCKED)
        steps = [
            (h.status, h.history_user.username if h.history_user else None)
            for h in self.case.history.order_by("history_date")
        ]
        self.assertEqual(steps[1:], [("submitted", "dm.padova"), ("validated", "nc.italy"), ("locked", "nc.italy")])

    def test_a_data_manager_cannot_validate_nor_can_a_coordinator_of_another_country(self):
        self._complete()
        self._post(self.dm_padova, Status.SUBMITTED)
        response = self._post(self.dm_padova, Status.VALIDATED)
        self.assertContains(response, "cannot be made validated by your role")
        self.assertEqual(self._post(self.dm_paris, Status.VALIDATED).status_code, 404)
        self.case.refresh_from_db()
        self.assertEqual(self.case.status, Status.SUBMITTED)

    def test_a_validation_refused_by_an_open_error_says_it_cannot_be_validated(self):
        from partner.quality.models import Finding

        self._complete()
        self._post(self.dm_padova, Status.SUBMITTED)
        Finding.objects.create(
            case=self.case, rule="dates.test", severity="error", field="diagnosis.diagnosis_date", values="x"
        )
        response = self._post(self.nc_italy, Status.VALIDATED)
        self.assertContains(response, "cannot be validated yet")
        self.assertNotContains(response, "cannot be submitted yet")
        self.case.refresh_from_db()
        self.assertEqual(self.case.status, Status.SUBMITTED)

    def test_the_api_moves_a_case_with_the_same_rules(self):
        self._complete()
        _, key = ApiToken.issue(self.dm_padova, "t")
        headers = {"authorization": f"Bearer {key}"}
        url = f"/api/cases/{self.case.pk}/status"
        response = self.client.post(url, {"status": "validated"}, content_type="application/json", headers=headers)
        self.assertEqual(response.status_code, 403)
        response = self.client.post(url, {"status": "submitted"}, content_type="application/json", headers=headers)
        self.assertEqual((response.status_code, response.json()["status"]), (200, "submitted"))
        self.assertEqual(TumourCase.objects.get(pk=self.case.pk).status, Status.SUBMITTED)
