"""POST /api/fhir/bundles: a data manager imports one mCODE Bundle into a centre of theirs, and gets the report."""

from __future__ import annotations

import json
from typing import Any

from partner.accounts.models import ApiToken
from partner.cases.models import FormRecord, TumourCase
from partner.interop.tests.test_fhir_real import jenny, jenny_coded
from partner.quality.services import open_findings
from partner.testing import RegistryTestCase


class FhirApiTests(RegistryTestCase):
    def post(self, user: Any, bundle: Any, **params: str) -> Any:
        _, key = ApiToken.issue(user, "test")
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return self.client.post(
            f"/api/fhir/bundles{'?' + query if query else ''}",
            data=json.dumps(bundle),
            content_type="application/json",
            headers={"authorization": f"Bearer {key}"},
        )

    def test_a_data_manager_imports_a_bundle_into_their_centre_and_gets_the_report(self) -> None:
        answer = self.post(self.dm_padova, jenny_coded())
        self.assertEqual(answer.status_code, 201, answer.content)
        body = answer.json()
        case = TumourCase.objects.get(pk=body["case"])
        self.assertEqual((case.centre, case.status), (self.padova, "draft"))
        self.assertEqual(body["report"]["case"], case.pk)
        taken = {line["field"]: line["value"] for line in body["report"]["taken"]}
        self.assertEqual((taken["diagnosis.stage_group"], taken["diagnosis.tnm_t"]), ("IIB", "T3"))
        self.assertIn("anastrozole", [line["value"] for line in body["report"]["taken_otherwise"]])
        self.assertTrue(body["report"]["left_out"])
        self.assertEqual(len(body["report"]["findings"]), len(open_findings(case)))

    def test_a_refused_bundle_answers_422_with_the_report_and_writes_nothing(self) -> None:
        answer = self.post(self.dm_padova, jenny(), centre="it-pd")
        self.assertEqual(answer.status_code, 422, answer.content)
        body = answer.json()
        self.assertIn("diagnosis.morphology", [line["field"] for line in body["report"]["refused"]])
        self.assertTrue(body["detail"].startswith("nothing imported: diagnosis.morphology"))
        self.assertEqual((TumourCase.objects.count(), FormRecord.objects.count()), (0, 0))

    def test_what_is_not_a_fhir_bundle_answers_400(self) -> None:
        answer = self.post(self.dm_padova, {"resourceType": "Patient"})
        self.assertEqual(answer.status_code, 400, answer.content)
        self.assertEqual(answer.json()["report"]["taken"], [])
        self.assertFalse(TumourCase.objects.exists())

    def test_a_centre_not_theirs_is_refused(self) -> None:
        answer = self.post(self.dm_padova, jenny_coded(), centre="FR-PA")
        self.assertEqual(answer.status_code, 403)
        self.assertIn("IT-PD", answer.json()["detail"])
        self.assertFalse(TumourCase.objects.exists())

    def test_who_registers_no_cases_imports_no_bundle(self) -> None:
        for user in (self.researcher, self.expert):
            with self.subTest(user=user.username):
                self.assertEqual(self.post(user, jenny_coded()).status_code, 403)
        self.assertFalse(TumourCase.objects.exists())

    def test_a_second_import_of_the_same_bundle_is_refused(self) -> None:
        self.assertEqual(self.post(self.dm_padova, jenny_coded()).status_code, 201)
        again = self.post(self.dm_padova, jenny_coded())
        self.assertEqual(again.status_code, 422)
        self.assertIn("imported before", again.json()["detail"])
        self.assertEqual(TumourCase.objects.count(), 1)
