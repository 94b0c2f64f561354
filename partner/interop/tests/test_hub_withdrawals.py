"""The hub's end of a push that carries withdrawals of consent.

This test's registry is the hub: its cases are the ones a node pushed before, and the pushes are
what a node's `partner hub push` sends (partner/interop/tests/test_hub.py runs a node and a hub
together).
"""

import json

from partner.accounts.models import ApiToken, Membership, Role
from partner.cases.consent import withdraw_consent
from partner.cases.models import ConsentWithdrawal, FormRecord, TumourCase
from partner.interop.hub import case_payload, digest
from partner.interop.models import PushReceipt
from partner.testing import RegistryTestCase

#: A case complete enough to pass the hub's checks of a submitted case.
COMPLETE = {
    "diagnosis": {
        "diagnosis_date": "2024-02-10",
        "morphology": "8370/3",
        "topography": "C74.0",
        "basis_of_diagnosis": "7",
    },
    "status": {"patient_status": "alive", "last_contact_date": "2025-01-10"},
    "consent": {"consent_reuse": "given", "consent_date": "2024-02-12"},
}


class HubWithdrawalTests(RegistryTestCase):
    def setUp(self):
        self.token = ApiToken.issue(self.nc_italy, "node")[1]
        self.giulia = self.received(self.padova, "Giulia", "IT-PD-101")
        self.marco = self.received(self.milano, "Marco", "IT-MI-102")

    def received(self, centre, given, external_id):
        """A case as the hub holds it after a node's push: submitted, found again by centre and identifier."""
        case = self.register(centre, given=given, case_status="submitted", **COMPLETE)
        TumourCase.objects.filter(pk=case.pk).update(external_id=external_id)
        case.refresh_from_db()
        return case

    def withdrawal(self, case, *, erased=False, **changes):
        w = {
            "centre": case.centre.code,
            "external_id": case.external_id,
            "pseudonym": case.patient.pseudonym,
            "withdrawn_on": "2025-03-01",
            "erased": erased,
        }
        return w | changes

    def post(self, cases=(), withdrawals=(), signed=None):
        cases, withdrawals = list(cases), list(withdrawals)
        body = {"digest": signed or digest(cases, withdrawals), "cases": cases, "withdrawals": withdrawals}
        return self.client.post(
            "/api/hub/push",
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {self.token}",
        )

    def new_case(self, external_id):
        """A case the node sends for the first time: the payload of one of this registry's, under a new identifier."""
        payload = case_payload(self.giulia, self.dictionary)
        return payload | {"external_id": external_id}

    def test_a_withdrawal_takes_the_case_out_of_every_analysis_at_the_hub(self):
        self.assertEqual(set(TumourCase.objects.counted()), {self.giulia, self.marco})
        answer = self.post(withdrawals=[self.withdrawal(self.giulia)])
        self.assertEqual(answer.status_code, 200, answer.content)
        receipt = answer.json()["receipt"]
        self.assertEqual(
            answer.json()["withdrawals"],
            [
                {
                    "centre": "IT-PD",
                    "external_id": "IT-PD-101",
                    "withdrawn_on": "2025-03-01",
                    "erased": False,
                    "earlier": False,
                }
            ],
        )
        self.assertEqual(answer.json()["received"], 0)
        self.assertEqual(set(TumourCase.objects.counted()), {self.marco})
        self.assertEqual(set(TumourCase.objects.for_analysis()), {self.marco})
        withdrawal = ConsentWithdrawal.objects.get(case=self.giulia)
        self.assertEqual(str(withdrawal.withdrawn_on), "2025-03-01")
        self.assertFalse(withdrawal.erased)
        self.assertEqual(withdrawal.recorded_by, self.nc_italy)
        # The reason names the push by its digest, which its receipt keeps.
        self.assertIn(f"push {PushReceipt.objects.get(pk=receipt).digest}", withdrawal.reason)
        # Kept out, not erased: the clinical records stay.
        self.assertTrue(FormRecord.objects.filter(case=self.giulia, form__code="diagnosis").exists())

    def test_a_case_the_node_erased_is_erased_at_the_hub(self):
        answer = self.post(withdrawals=[self.withdrawal(self.giulia, erased=True)])
        self.assertEqual(answer.status_code, 200, answer.content)
        self.assertTrue(answer.json()["withdrawals"][0]["erased"])
        self.assertTrue(ConsentWithdrawal.objects.get(case=self.giulia).erased)
        kept = set(FormRecord.objects.filter(case=self.giulia).values_list("form__code", flat=True))
        self.assertEqual(kept, {"registration", "consent"})
        self.assertFalse(FormRecord.history.filter(case_id=self.giulia.pk, form__code="diagnosis").exists())
        self.giulia.refresh_from_db()
        self.assertIsNone(self.giulia.diagnosis_date)
        self.assertEqual(self.giulia.morphology, "")
        self.assertTrue(FormRecord.objects.filter(case=self.marco, form__code="diagnosis").exists())

    def test_a_retry_gets_the_same_receipt_and_records_nothing_twice(self):
        withdrawals = [self.withdrawal(self.giulia), self.withdrawal(self.marco, erased=True)]
        first = self.post(withdrawals=withdrawals)
        self.assertEqual(first.status_code, 200, first.content)
        consent_versions = FormRecord.history.filter(case_id=self.giulia.pk, form__code="consent").count()

        again = self.post(withdrawals=withdrawals)
        self.assertEqual(again.status_code, 200)
        self.assertEqual(again.json(), first.json())
        self.assertEqual(PushReceipt.objects.count(), 1)
        self.assertEqual(ConsentWithdrawal.objects.count(), 2)
        self.assertEqual(
            FormRecord.history.filter(case_id=self.giulia.pk, form__code="consent").count(), consent_versions
        )

    def test_a_withdrawal_the_hub_already_holds_is_taken_as_done(self):
        withdraw_consent(case=self.giulia, withdrawn_on=self.giulia.created.date(), erase=False, user=self.nc_italy)
        answer = self.post(withdrawals=[self.withdrawal(self.giulia), self.withdrawal(self.marco)])
        self.assertEqual(answer.status_code, 200, answer.content)
        earlier = {w["external_id"]: w["earlier"] for w in answer.json()["withdrawals"]}
        self.assertEqual(earlier, {"IT-PD-101": True, "IT-MI-102": False})
        self.assertEqual(ConsentWithdrawal.objects.count(), 2)

    def test_a_case_erased_at_the_node_but_only_withdrawn_at_the_hub_is_not_taken_as_done(self):
        withdraw_consent(case=self.giulia, withdrawn_on=self.giulia.created.date(), erase=False, user=self.nc_italy)
        answer = self.post(withdrawals=[self.withdrawal(self.giulia, erased=True), self.withdrawal(self.marco)])
        self.assertEqual(answer.status_code, 422)
        [problem] = answer.json()["problems"]
        self.assertEqual((problem["external_id"], problem["column"]), ("IT-PD-101", "erased"))
        self.assertIn("without erasure", problem["message"])
        self.assertFalse(ConsentWithdrawal.objects.filter(case=self.marco).exists())
        self.assertFalse(PushReceipt.objects.exists())

    def test_a_withdrawal_of_an_unknown_case_is_refused_and_nothing_of_the_push_is_written(self):
        paris = self.received(self.paris, "Léa", "FR-PA-103")  # not Italy's: unknown to Italy's node
        cases = TumourCase.objects.count()
        answer = self.post(
            cases=[self.new_case("IT-PD-104")],
            withdrawals=[
                self.withdrawal(self.marco),
                self.withdrawal(self.giulia, external_id="IT-PD-999"),
                self.withdrawal(paris),
            ],
        )
        self.assertEqual(answer.status_code, 422)
        named = [(p["external_id"], p["column"]) for p in answer.json()["problems"]]
        self.assertEqual(named, [("IT-PD-999", "external_id"), ("FR-PA-103", "external_id")])
        self.assertIn("no case with this identifier at IT-PD", answer.json()["problems"][0]["message"])
        self.assertEqual(TumourCase.objects.count(), cases)
        self.assertFalse(ConsentWithdrawal.objects.exists())
        self.assertFalse(PushReceipt.objects.exists())

    def test_a_withdrawal_whose_pseudonym_is_not_the_cases_is_refused(self):
        other = self.marco.patient.pseudonym
        answer = self.post(
            withdrawals=[self.withdrawal(self.marco), self.withdrawal(self.giulia, erased=True, pseudonym=other)]
        )
        self.assertEqual(answer.status_code, 422)
        [problem] = answer.json()["problems"]
        self.assertEqual((problem["external_id"], problem["column"]), ("IT-PD-101", "pseudonym"))
        self.assertNotIn(other, json.dumps(answer.json()))
        self.assertFalse(ConsentWithdrawal.objects.exists())
        self.assertTrue(FormRecord.objects.filter(case=self.giulia, form__code="diagnosis").exists())

    def test_a_withdrawal_the_case_refuses_is_named_and_undoes_the_whole_push(self):
        # Data manager at Padova and coordinator of France: for a Padova case, a data manager, who
        # does not erase a locked case. Marco's withdrawal, taken first, is undone with the rest.
        pushing = self._user("dm.padova.nc.france", Role.DATA_MANAGER, centre=self.padova)
        Membership.objects.create(user=pushing, role=Role.NATIONAL_COORDINATOR, country=self.france)
        self.token = ApiToken.issue(pushing, "node")[1]
        marco = self.received(self.padova, "Marco", "IT-PD-105")
        TumourCase.objects.filter(pk=self.giulia.pk).update(status="locked")
        answer = self.post(
            cases=[self.new_case("IT-PD-104")],
            withdrawals=[self.withdrawal(marco), self.withdrawal(self.giulia, erased=True)],
        )
        self.assertEqual(answer.status_code, 422, answer.content)
        [problem] = answer.json()["problems"]
        self.assertEqual(problem["external_id"], "IT-PD-101")
        self.assertIn("only its national or European coordinator may erase it", problem["message"])
        self.assertFalse(ConsentWithdrawal.objects.exists())
        self.assertTrue(FormRecord.objects.filter(case=marco, form__code="diagnosis").exists())
        self.assertTrue(FormRecord.objects.filter(case=self.giulia, form__code="diagnosis").exists())
        self.assertFalse(TumourCase.objects.filter(external_id="IT-PD-104").exists())
        self.assertFalse(PushReceipt.objects.exists())

    def test_a_withdrawal_that_is_not_one_is_refused_by_case_and_field(self):
        answer = self.post(
            cases=[self.new_case("IT-PD-101")],
            withdrawals=[
                self.withdrawal(self.giulia),  # the case is also sent in this push
                self.withdrawal(self.marco, withdrawn_on="01/03/2025"),
                self.withdrawal(self.marco, erased="yes"),
                self.withdrawal(self.marco, pseudonym=""),
            ],
        )
        self.assertEqual(answer.status_code, 422)
        named = [(p["external_id"], p["column"]) for p in answer.json()["problems"]]
        expected = [
            ("IT-PD-101", "external_id"),
            ("IT-MI-102", "withdrawn_on"),
            ("IT-MI-102", "erased"),
            ("IT-MI-102", "pseudonym"),
        ]
        self.assertEqual([n for n in named if n in expected], expected)
        self.assertFalse(ConsentWithdrawal.objects.exists())

    def test_the_same_case_withdrawn_twice_in_one_push_is_refused(self):
        answer = self.post(withdrawals=[self.withdrawal(self.giulia), self.withdrawal(self.giulia, erased=True)])
        self.assertEqual(answer.status_code, 422)
        self.assertEqual(
            [p["message"] for p in answer.json()["problems"]], ["the case is withdrawn twice in this push"]
        )
        self.assertFalse(ConsentWithdrawal.objects.exists())


class AlteredPushTests(RegistryTestCase):
    """A payload changed after its digest was receipted is refused; it never gets the earlier receipt."""

    def setUp(self):
        self.token = ApiToken.issue(self.nc_italy, "node")[1]
        self.giulia = self.register(self.padova, given="Giulia", **COMPLETE)

    def post(self, body):
        return self.client.post(
            "/api/hub/push",
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {self.token}",
        )

    def test_a_changed_case_under_a_receipted_digest_is_refused_and_changes_nothing(self):
        case = case_payload(self.giulia, self.dictionary) | {"external_id": "IT-PD-201"}
        first = self.post({"digest": digest([case]), "cases": [case]})
        self.assertEqual(first.status_code, 200, first.content)
        self.assertEqual(first.json()["created"], 1)
        receipt = PushReceipt.objects.get()
        received = TumourCase.objects.get(external_id="IT-PD-201")
        status = FormRecord.objects.get(case=received, form__code="status")

        altered = json.loads(json.dumps(case))
        altered["forms"]["status"]["last_contact_date"] = "2025-06-01"
        answer = self.post({"digest": digest([case]), "cases": [altered]})
        self.assertEqual(answer.status_code, 422)
        self.assertIn("the payload was altered", answer.json()["detail"])
        self.assertNotEqual(answer.json().get("receipt"), receipt.pk)
        self.assertEqual(FormRecord.objects.get(pk=status.pk).values, status.values)
        self.assertEqual(FormRecord.objects.get(pk=status.pk).version, status.version)
        self.assertEqual(TumourCase.objects.filter(external_id="IT-PD-201").count(), 1)
        self.assertEqual(PushReceipt.objects.get().answer, receipt.answer)

    def test_a_changed_withdrawal_under_a_receipted_digest_is_refused_and_erases_nothing(self):
        TumourCase.objects.filter(pk=self.giulia.pk).update(external_id="IT-PD-202", status="submitted")
        withdrawal = {
            "centre": "IT-PD",
            "external_id": "IT-PD-202",
            "pseudonym": self.giulia.patient.pseudonym,
            "withdrawn_on": "2025-03-01",
            "erased": False,
        }
        signed = digest([], [withdrawal])
        self.assertEqual(self.post({"digest": signed, "cases": [], "withdrawals": [withdrawal]}).status_code, 200)
        receipt = PushReceipt.objects.get()

        answer = self.post({"digest": signed, "cases": [], "withdrawals": [withdrawal | {"erased": True}]})
        self.assertEqual(answer.status_code, 422)
        self.assertIn("the payload was altered", answer.json()["detail"])
        self.assertFalse(ConsentWithdrawal.objects.get(case=self.giulia).erased)
        self.assertTrue(FormRecord.objects.filter(case=self.giulia, form__code="diagnosis").exists())
        self.assertEqual(PushReceipt.objects.get().answer, receipt.answer)

    def test_a_push_without_withdrawals_keeps_the_digest_of_its_cases(self):
        # Receipts given before withdrawals travelled still answer a node's retry.
        case = case_payload(self.giulia, self.dictionary)
        self.assertEqual(digest([case]), digest([case], []))
        self.assertNotEqual(digest([case]), digest([case], [{"centre": "IT-PD"}]))
