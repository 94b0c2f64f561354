"""Findings kept in step with the data: raised at save, resolved when corrected, confirmed once for good."""

import io
import json

from django.core.management import CommandError, call_command
from django.urls import reverse

from partner.cases.models import FormRecord, Status
from partner.cases.records import update_record
from partner.cases.services import CaseInvalid
from partner.cases.workflow import change_status
from partner.quality.models import Finding, FindingStatus
from partner.quality.receivers import deferred
from partner.quality.services import check_cases
from partner.testing import RegistryTestCase

COMPLETE = {
    "status": {"patient_status": "alive", "last_contact_date": "2025-01-10"},
    "consent": {"consent_reuse": "given", "consent_date": "2024-02-12"},
}


def diagnosis(**values):
    return {
        "diagnosis_date": "2024-02-10",
        "morphology": "8370/3",
        "topography": "C74.0",
        "basis_of_diagnosis": "7",
    } | values


class FindingTests(RegistryTestCase):
    def setUp(self):
        # A thyroid carcinoma at four: real, and rare enough that the IARC checks query it.
        self.young = self.register(
            self.padova,
            born="2020-03-01",
            diagnosis=diagnosis(diagnosis_date="2024-05-02", morphology="8260/3", topography="C73.9"),
            **COMPLETE,
        )
        # Treatment a month before the diagnosis: a typing error in a date.
        self.early = self.register(
            self.padova,
            given="Marco",
            diagnosis=diagnosis(),
            treatment=[{"line_type": "surgery", "treatment_start_date": "2024-01-10", "surgery_type": "biopsy_open"}],
            **COMPLETE,
        )

    def _open(self, case):
        return list(Finding.objects.filter(case=case, status=FindingStatus.OPEN).values_list("rule", flat=True))

    def test_a_save_raises_its_findings_in_the_same_transaction(self):
        self.assertEqual(self._open(self.young), ["AGE-SITE-HISTOLOGY"])
        self.assertEqual(self._open(self.early), ["DATE-DX-TREAT"])
        finding = Finding.objects.get(case=self.early)
        self.assertEqual((finding.field, finding.row, finding.severity), ("treatment.treatment_start_date", 1, "error"))
        self.assertIn("treatment_start_date=2024-01-10", finding.values)

    def test_correcting_the_value_resolves_the_finding_and_the_history_keeps_both(self):
        record = FormRecord.objects.get(case=self.early, form__code="treatment")
        values = record.values | {"treatment_start_date": "2024-02-20"}
        update_record(
            dictionary=self.dictionary,
            case=self.early,
            form_code="treatment",
            number=1,
            values=values,
            version=record.version,
            user=self.dm_padova,
        )
        finding = Finding.objects.get(case=self.early)
        self.assertEqual(finding.status, FindingStatus.RESOLVED)
        self.assertIsNotNone(finding.resolved)
        self.assertEqual([h.status for h in finding.history.order_by("history_date")], ["open", "resolved"])
        self.assertEqual(finding.history.latest("history_date").history_user, self.dm_padova)

    def test_a_confirmed_query_is_never_raised_again_for_the_same_values(self):
        finding = Finding.objects.get(case=self.young)
        self.sign_in(self.client, self.dm_padova)
        url = reverse("quality:confirm", args=[finding.pk])
        response = self.client.post(url, {"reason": "papillary carcinoma confirmed by central pathology review"})
        self.assertRedirects(response, reverse("cases:detail", args=[self.young.pk]) + "#quality-heading")
        finding.refresh_from_db()
        self.assertEqual((finding.status, finding.confirmed_by), (FindingStatus.CONFIRMED, self.dm_padova))
        run = check_cases(self.young.__class__.objects.filter(pk=self.young.pk))
        self.assertEqual((run.opened, run.reopened, run.resolved), (0, 0, 0))
        self.assertEqual(Finding.objects.filter(case=self.young).count(), 1)
        page = self.client.get(reverse("cases:detail", args=[self.young.pk]))
        self.assertContains(page, "confirmed by")
        self.assertContains(page, "central pathology review")

    def test_other_values_raise_it_again(self):
        finding = Finding.objects.get(case=self.young)
        self.sign_in(self.client, self.dm_padova)
        self.client.post(reverse("quality:confirm", args=[finding.pk]), {"reason": "checked"})
        record = FormRecord.objects.get(case=self.young, form__code="diagnosis")
        update_record(
            dictionary=self.dictionary,
            case=self.young,
            form_code="diagnosis",
            number=1,
            values=record.values | {"diagnosis_date": "2023-05-02"},
            version=record.version,
            user=self.dm_padova,
        )
        statuses = sorted(Finding.objects.filter(case=self.young).values_list("status", flat=True))
        self.assertEqual(statuses, ["confirmed", "open"])

    def test_an_error_cannot_be_confirmed_and_a_confirmation_needs_a_reason(self):
        self.sign_in(self.client, self.dm_padova)
        error = Finding.objects.get(case=self.early)
        response = self.client.post(reverse("quality:confirm", args=[error.pk]), {"reason": "fine"}, follow=True)
        self.assertContains(response, "An error cannot be confirmed")
        query = Finding.objects.get(case=self.young)
        response = self.client.post(reverse("quality:confirm", args=[query.pk]), {"reason": "  "}, follow=True)
        self.assertContains(response, "Say why the value is right")
        self.assertEqual(Finding.objects.filter(status=FindingStatus.CONFIRMED).count(), 0)

    def test_findings_out_of_scope_are_not_found(self):
        finding = Finding.objects.get(case=self.young)
        self.sign_in(self.client, self.dm_paris)
        self.assertEqual(
            self.client.post(reverse("quality:confirm", args=[finding.pk]), {"reason": "x"}).status_code, 404
        )
        page = self.client.get(reverse("quality:findings"))
        self.assertNotContains(page, f"#{self.young.pk}<")
        self.sign_in(self.client, self.nc_italy)
        page = self.client.get(reverse("quality:findings"))
        self.assertContains(page, f"#{self.young.pk}<")
        self.assertContains(page, "DATE-DX-TREAT")

    def test_an_open_error_stops_the_submission(self):
        with self.assertRaises(CaseInvalid) as caught:
            change_status(dictionary=self.dictionary, case=self.early, to=Status.SUBMITTED, user=self.dm_padova)
        self.assertIn("treatment.treatment_start_date: Treatment starts before diagnosis", str(caught.exception))
        changed = change_status(dictionary=self.dictionary, case=self.young, to=Status.SUBMITTED, user=self.dm_padova)
        self.assertEqual(changed.status, Status.SUBMITTED)  # an open query does not stop it

    def test_the_api_gives_the_findings_after_a_save_and_confirms_them(self):
        from partner.accounts.models import ApiToken

        _token, secret = ApiToken.issue(self.dm_padova, "tests")
        auth = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
        detail = self.client.get(f"/api/cases/{self.young.pk}", **auth).json()
        self.assertEqual([f["rule"] for f in detail["findings"]], ["AGE-SITE-HISTOLOGY"])
        finding_id = detail["findings"][0]["id"]
        response = self.client.post(
            f"/api/quality/findings/{finding_id}/confirm",
            data=json.dumps({"reason": "confirmed by review"}),
            content_type="application/json",
            **auth,
        )
        self.assertEqual(response.status_code, 200, response.content)
        self.assertEqual(response.json()["status"], "confirmed")
        listed = self.client.get("/api/quality/findings?status=open", **auth).json()["items"]
        self.assertEqual([f["rule"] for f in listed], ["DATE-DX-TREAT"])
        paris = {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.issue(self.dm_paris, 'tests')[1]}"}
        self.assertEqual(self.client.get("/api/quality/findings", **paris).json()["items"], [])

    def test_the_api_refuses_a_case_id_larger_than_any_database_holds(self):
        from partner.accounts.models import ApiToken

        auth = {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.issue(self.dm_padova, 'tests')[1]}"}
        self.assertEqual(self.client.get(f"/api/quality/findings?case={2**63}", **auth).status_code, 422)
        largest = self.client.get(f"/api/quality/findings?case={2**63 - 1}", **auth)
        self.assertEqual((largest.status_code, largest.json()["items"]), (200, []))


class QcCommandTests(RegistryTestCase):
    def test_qc_run_checks_every_case_once_and_is_idempotent(self):
        with deferred():
            case = self.register(
                self.padova, born="2020-03-01", diagnosed="2024-05-02", morphology="8260/3", topography="C73.9"
            )
            self.register(self.paris, given="Léa", sex="male", morphology="8620/3", topography="C56.9")
        self.assertFalse(Finding.objects.exists())
        out = io.StringIO()
        call_command("qc", "run", "--country", "it", "--json", stdout=out)
        summary = json.loads(out.getvalue())
        self.assertEqual((summary["country"], summary["cases"]), ("IT", 1))
        self.assertEqual(summary["open_by_rule"], {"AGE-SITE-HISTOLOGY": 1})
        self.assertEqual(list(Finding.objects.values_list("case_id", flat=True)), [case.pk])
        out = io.StringIO()
        call_command("qc", "run", stdout=out)
        self.assertIn("checked 2 cases", out.getvalue())
        self.assertIn("SEX-SITE", out.getvalue())
        again = io.StringIO()
        call_command("qc", "run", "--json", stdout=again)
        self.assertEqual(json.loads(again.getvalue())["opened"], 0)

    def test_an_unknown_country_is_a_clear_error(self):
        with self.assertRaisesMessage(CommandError, "--country XX: no such country (known: FR, IT)"):
            call_command("qc", "run", "--country", "XX")
