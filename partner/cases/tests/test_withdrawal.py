"""Withdrawal of consent: out of exports and analyses from that moment, erased where the scope requires."""

import datetime as dt

from django.db import connection
from django.urls import reverse

from partner.cases.frames import case_frames
from partner.cases.models import AccessLog, ConsentWithdrawal, FormRecord, TumourCase
from partner.testing import RegistryTestCase


class WithdrawalTests(RegistryTestCase):
    def setUp(self):
        self.case = self.register(
            self.padova,
            consent={"consent_reuse": "given", "consent_date": "2024-02-11", "consent_given_by": "parents"},
            treatment=[{"line_type": "chemotherapy", "treatment_start_date": "2024-03-01"}],
        )
        self.other = self.register(self.padova, given="Marco", born="2013-01-02")
        self.sign_in(self.client, self.dm_padova)
        self.url = reverse("cases:withdraw", args=[self.case.pk])

    def _withdraw(self, extent, **extra):
        data = {"withdrawn_on": "2025-01-15", "extent": extent, "confirm": "on", **extra}
        if extent == "erase":
            data.setdefault("reason", "The consent form's scope requires erasure.")
        return self.client.post(self.url, data)

    def test_a_kept_case_leaves_analyses_and_takes_no_new_data(self):
        self.assertEqual(len(case_frames(self.european).cases), 2)
        response = self._withdraw("keep")
        self.assertRedirects(response, reverse("cases:detail", args=[self.case.pk]), fetch_redirect_response=False)
        self.assertEqual(list(case_frames(self.european).cases["case_id"]), [self.other.pk])
        consent = FormRecord.objects.get(case=self.case, form__code="consent")
        self.assertEqual(
            (consent.values["consent_reuse"], consent.values["consent_withdrawal_date"], consent.version),
            ("withdrawn", "2025-01-15", 2),
        )
        self.assertEqual(FormRecord.objects.filter(case=self.case).count(), 4)  # nothing erased
        edit = self.client.get(reverse("cases:edit", args=[self.case.pk]))
        self.assertRedirects(edit, reverse("cases:detail", args=[self.case.pk]), fetch_redirect_response=False)
        withdrawal = ConsentWithdrawal.objects.get(case=self.case)
        self.assertEqual((withdrawal.recorded_by, withdrawal.erased), (self.dm_padova, False))

    def test_erasure_deletes_the_clinical_records_and_their_history_and_records_the_deletion(self):
        self._withdraw("erase")
        self.case.refresh_from_db()
        self.assertEqual(
            sorted(FormRecord.objects.filter(case=self.case).values_list("form__code", flat=True)),
            ["consent", "registration"],
        )
        self.assertEqual((self.case.morphology, self.case.entity, self.case.diagnosis_date), ("", None, None))
        withdrawal = ConsentWithdrawal.objects.get(case=self.case)
        self.assertEqual(withdrawal.erased_records, ["diagnosis #1", "treatment #1"])
        self.assertEqual(
            (withdrawal.recorded_by, withdrawal.reason), (self.dm_padova, "The consent form's scope requires erasure.")
        )
        self.assertGreaterEqual(withdrawal.erased_versions, 3)
        # No trace of the diagnosis is left in any table, current or historical, for this case.
        with connection.cursor() as cursor:
            for table in ("cases_formrecord", "cases_historicalformrecord"):
                cursor.execute(f'SELECT "values" FROM "{table}" WHERE case_id = %s', [self.case.pk])
                self.assertNotIn("8370/3", repr(cursor.fetchall()), table)
            cursor.execute('SELECT morphology FROM "cases_historicaltumourcase" WHERE id = %s', [self.case.pk])
            self.assertNotIn("8370/3", repr(cursor.fetchall()))
        self.assertTrue(AccessLog.objects.filter(case=self.case).exists())  # the reads stay on record
        page = self.client.get(reverse("cases:detail", args=[self.case.pk]))
        self.assertContains(page, "diagnosis #1, treatment #1")
        self.assertContains(page, "Reason: The consent form&#x27;s scope requires erasure.")

    def test_the_form_refuses_a_future_date_and_needs_confirmation(self):
        tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
        response = self.client.post(self.url, {"withdrawn_on": tomorrow, "extent": "erase"})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(set(response.context["form"].errors), {"withdrawn_on", "confirm", "reason"})
        self.assertFalse(ConsentWithdrawal.objects.exists())

    def test_a_withdrawal_is_recorded_once_and_never_changed(self):
        self._withdraw("keep")
        self._withdraw("erase")
        self.assertEqual(FormRecord.objects.filter(case=self.case).count(), 4)
        withdrawal = ConsentWithdrawal.objects.get()
        with self.assertRaises(PermissionError):
            withdrawal.save()
        with self.assertRaises(PermissionError):
            withdrawal.delete()

    def test_out_of_scope_is_404(self):
        self.sign_in(self.client, self.dm_paris)
        self.assertEqual(self._withdraw("erase").status_code, 404)
        self.assertFalse(ConsentWithdrawal.objects.exists())
        self.assertEqual(TumourCase.objects.get(pk=self.case.pk).morphology, "8370/3")


class ErasureRuleTests(RegistryTestCase):
    """Who may erase, in which state, and never without saying why."""

    def setUp(self):
        self.case = self.register(self.padova, case_status="locked")
        self.url = reverse("cases:withdraw", args=[self.case.pk])

    def _erase(self, user, reason="The family asked for erasure."):
        self.sign_in(self.client, user)
        data = {"withdrawn_on": "2025-01-15", "extent": "erase", "confirm": "on", "reason": reason}
        return self.client.post(self.url, data)

    def test_an_erasure_without_a_reason_is_refused(self):
        TumourCase.objects.filter(pk=self.case.pk).update(status="submitted")
        response = self._erase(self.dm_padova, reason="  ")
        self.assertEqual(response.status_code, 200)
        self.assertIn("reason", response.context["form"].errors)
        self.assertFalse(ConsentWithdrawal.objects.exists())

    def test_a_clinician_records_a_withdrawal_but_does_not_erase(self):
        clinician = self._user("clinician.padova", "clinician", centre=self.padova)
        TumourCase.objects.filter(pk=self.case.pk).update(status="submitted")
        response = self._erase(clinician)
        self.assertContains(response, "Your role does not allow this change")
        self.assertFalse(ConsentWithdrawal.objects.exists())
        self.assertEqual(TumourCase.objects.get(pk=self.case.pk).morphology, "8370/3")

    def test_a_locked_case_is_erased_by_its_coordinator_only(self):
        response = self._erase(self.dm_padova)
        self.assertContains(response, "only its national or European coordinator may erase it")
        self.assertFalse(ConsentWithdrawal.objects.exists())
        self._erase(self.nc_italy)
        withdrawal = ConsentWithdrawal.objects.get()
        self.assertEqual((withdrawal.erased, withdrawal.recorded_by), (True, self.nc_italy))
        self.assertEqual(TumourCase.objects.get(pk=self.case.pk).morphology, "")

    def test_a_locked_case_still_records_a_withdrawal_without_erasure(self):
        self.sign_in(self.client, self.dm_padova)
        self.client.post(self.url, {"withdrawn_on": "2025-01-15", "extent": "keep", "confirm": "on"})
        self.assertFalse(ConsentWithdrawal.objects.get().erased)
