"""Consultations over the API: the same services, rules and scope as the pages, with personal tokens."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.test.client import Client

from partner.accounts.models import ApiToken
from partner.cases.models import AccessLog
from partner.consult import services
from partner.consult.models import Attachment, Consultation, ConsultationStatus

from .story import QUESTION, ConsultStory, pdf, png


def b64(content: bytes) -> str:
    return base64.b64encode(content).decode()


class ApiStory(ConsultStory):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        people = (cls.clinician, cls.dm_padova, cls.dm_paris, cls.nc_italy, cls.european)
        cls.keys = {u.pk: ApiToken.issue(u, "api")[1] for u in (*people, cls.expert, cls.expert_fr, cls.expert_de)}
        cls.keys[cls.outsider.pk] = ApiToken.issue(cls.outsider, "api")[1]

    def call(self, user: Any, method: str, url: str, body: Any = None, language: str = "en") -> Any:
        data = json.dumps(body) if body is not None else ""
        headers = {"authorization": f"Bearer {self.keys[user.pk]}", "accept-language": language}
        return Client().generic(method, url, data, content_type="application/json", headers=headers)

    def ok(self, response: Any, status: int = 200) -> dict[str, Any]:
        self.assertEqual(response.status_code, status, response.content)
        result: dict[str, Any] = response.json()
        return result


class TheWholeConsultationThroughTheApi(ApiStory):
    def test_request_panel_thread_votes_letter_and_follow_up(self) -> None:
        body = {
            "case": self.case.pk,
            "question": QUESTION,
            "urgency": "urgent",
            "attachments": [{"name": "histology.pdf", "kind": "pathology", "content": b64(pdf())}],
        }
        created = self.ok(self.call(self.clinician, "POST", "/api/consultations", body), 201)
        pk = created["id"]
        self.assertEqual(
            (created["status"], created["panel"], created["urgency"]), ("submitted", "endocrine", "urgent")
        )
        self.assertEqual(created["case"], self.case.pk)
        self.assertEqual(
            [(a["name"], a["content_type"]) for a in created["attachments"]], [("histology.pdf", "application/pdf")]
        )

        experts = [self.expert.pk, self.expert_fr.pk, self.expert_de.pk]
        assigned = self.ok(self.call(self.nc_italy, "POST", f"/api/consultations/{pk}/assign", {"experts": experts}))
        self.assertEqual(assigned["status"], "assigned")
        self.assertEqual(sorted(a["country"] for a in assigned["assignments"]), ["DE", "FR", "IT"])

        read = self.ok(self.call(self.expert_fr, "GET", f"/api/consultations/{pk}"))
        self.assertIsNone(read["case"])  # the expert reads the summary, not the case
        self.assertIsNone(read["requested_by"])
        self.assertEqual(read["question"], QUESTION)
        self.ok(
            self.call(self.expert_fr, "POST", f"/api/consultations/{pk}/messages", {"text": "Any venous invasion?"})
        )
        self.ok(self.call(self.clinician, "POST", f"/api/consultations/{pk}/messages", {"text": "None."}))

        text = "Mitotane for one year, aiming at 14-20 mg/l."
        drafted = self.ok(self.call(self.expert, "POST", f"/api/consultations/{pk}/draft", {"text": text}))
        self.assertEqual((drafted["recommendation"]["version"], drafted["recommendation"]["letter"]), (1, False))
        for expert in (self.expert, self.expert_fr):
            self.ok(self.call(expert, "POST", f"/api/consultations/{pk}/vote", {"vote": "agree", "version": 1}))
        self.assertEqual(self.call(self.clinician, "GET", f"/api/consultations/{pk}/letter").status_code, 404)
        sent = self.ok(
            self.call(self.expert_de, "POST", f"/api/consultations/{pk}/vote", {"vote": "agree", "version": 1})
        )
        self.assertEqual(sent["status"], "sent")
        self.assertEqual({a["vote"] for a in sent["assignments"]}, {"agree"})
        self.assertEqual([m["author"] for m in sent["messages"]], ["expert.fr", "clinician.padova"])
        self.assertIsNotNone(sent["first_response_at"])
        self.assertTrue(sent["recommendation"]["letter"])

        letter = self.call(self.clinician, "GET", f"/api/consultations/{pk}/letter")
        self.assertEqual(letter.status_code, 200)
        self.assertEqual(letter["Content-Type"], "application/pdf")
        self.assertEqual(letter["Content-Disposition"], f'attachment; filename="consultation-{pk}.pdf"')
        self.assertEqual(letter["X-Content-Type-Options"], "nosniff")
        self.assertTrue(letter.content.startswith(b"%PDF"))
        # An assigned expert who voted gets the panel's copy, which names no centre; an outsider gets nothing.
        self.assertEqual(self.call(self.expert, "GET", f"/api/consultations/{pk}/letter").status_code, 200)
        self.assertEqual(self.call(self.outsider, "GET", f"/api/consultations/{pk}/letter").status_code, 404)
        stored = Consultation.objects.get(pk=pk).recommendation.letter
        self.assertEqual(letter.content, Path(stored.path).read_bytes())

        body = {"followed": "partly", "outcome": "ned", "reason": "Six months only: poor tolerance."}
        followed = self.ok(self.call(self.dm_padova, "POST", f"/api/consultations/{pk}/follow-up", body))
        self.assertEqual(followed["adherence"]["followed"], "partly")
        self.assertEqual(followed["adherence"]["reason"], "Six months only: poor tolerance.")

        reads = AccessLog.objects.filter(case=self.case, channel=AccessLog.Channel.API)
        self.assertIn("consultation api letter", set(reads.values_list("what", flat=True)))
        self.assertTrue(reads.filter(user=self.expert_fr, what="consultation api read").exists())


class Scope(ApiStory):
    def test_an_expert_not_assigned_gets_404_on_every_endpoint(self) -> None:
        consultation = self.panel(self.request())
        pk = consultation.pk
        for method, url, body in [
            ("GET", f"/api/consultations/{pk}", None),
            ("GET", f"/api/consultations/{pk}/letter", None),
            ("POST", f"/api/consultations/{pk}/messages", {"text": "Hello"}),
            ("POST", f"/api/consultations/{pk}/draft", {"text": "Mine"}),
            ("POST", f"/api/consultations/{pk}/vote", {"vote": "agree"}),
            ("POST", f"/api/consultations/{pk}/withdraw", None),
            ("POST", f"/api/consultations/{pk}/assign", {"experts": [self.outsider.pk]}),
        ]:
            with self.subTest(url=url):
                self.assertEqual(self.call(self.outsider, method, url, body).status_code, 404)
        self.assertEqual(self.ok(self.call(self.outsider, "GET", "/api/consultations"))["count"], 0)
        self.assertFalse(consultation.messages.exists())
        self.assertFalse(AccessLog.objects.filter(user=self.outsider).exists())

    def test_another_centre_neither_sees_nor_asks_about_the_case(self) -> None:
        consultation = self.request()
        self.assertEqual(self.call(self.dm_paris, "GET", f"/api/consultations/{consultation.pk}").status_code, 404)
        body = {"case": self.case.pk, "question": QUESTION}
        self.assertEqual(self.call(self.dm_paris, "POST", "/api/consultations", body).status_code, 404)
        self.assertEqual(Consultation.objects.count(), 1)

    def test_a_coordinator_sees_the_case_but_only_its_centre_asks(self) -> None:
        response = self.call(self.nc_italy, "POST", "/api/consultations", {"case": self.case.pk, "question": QUESTION})
        self.assertEqual(response.status_code, 403)
        self.assertFalse(Consultation.objects.exists())

    def test_the_list_holds_the_users_own_and_filters_by_status(self) -> None:
        first = self.request()
        second = self.panel(self.request(urgency="urgent"))
        listed = self.ok(self.call(self.nc_italy, "GET", "/api/consultations"))
        self.assertEqual([c["id"] for c in listed["items"]], [second.pk, first.pk])
        assigned = self.ok(self.call(self.expert_de, "GET", "/api/consultations?status=assigned"))
        self.assertEqual([c["id"] for c in assigned["items"]], [second.pk])
        self.assertEqual(self.ok(self.call(self.expert_de, "GET", "/api/consultations?status=sent"))["count"], 0)


class Refusals(ApiStory):
    def test_a_refusal_by_the_rules_is_422_with_the_services_message_and_changes_nothing(self) -> None:
        consultation = self.request()
        pk = consultation.pk
        too_few = {"experts": [self.expert.pk, self.expert_fr.pk]}
        response = self.call(self.european, "POST", f"/api/consultations/{pk}/assign", too_few)
        self.assertEqual(response.status_code, 422)
        self.assertIn("at least 3 experts from at least 2 countries", response.json()["detail"])
        unknown = {"experts": [self.expert.pk, self.expert_fr.pk, 999999]}
        response = self.call(self.european, "POST", f"/api/consultations/{pk}/assign", unknown)
        self.assertEqual(response.status_code, 422)
        self.assertIn("999999", response.json()["detail"])
        self.assertFalse(consultation.assignments.exists())

    def test_an_expert_id_larger_than_any_database_holds_is_refused_with_422(self) -> None:
        consultation = self.request()
        experts = {"experts": [self.expert.pk, self.expert_fr.pk, 2**70]}
        response = self.call(self.european, "POST", f"/api/consultations/{consultation.pk}/assign", experts)
        self.assertEqual(response.status_code, 422)
        self.assertFalse(consultation.assignments.exists())

    def test_a_person_of_the_request_not_allowed_the_action_gets_403(self) -> None:
        consultation = self.panel(self.request())
        experts = {"experts": [self.expert.pk]}
        self.assertEqual(
            self.call(self.clinician, "POST", f"/api/consultations/{consultation.pk}/assign", experts).status_code, 403
        )
        self.assertEqual(
            self.call(self.clinician, "POST", f"/api/consultations/{consultation.pk}/draft", {"text": "x"}).status_code,
            403,
        )
        self.assertEqual(
            self.call(self.expert, "POST", f"/api/consultations/{consultation.pk}/withdraw").status_code, 403
        )
        consultation.refresh_from_db()
        self.assertEqual(consultation.status, ConsultationStatus.ASSIGNED)
        self.assertFalse(hasattr(consultation, "recommendation") and consultation.recommendation)

    def test_a_vote_on_a_revised_draft_is_refused(self) -> None:
        consultation = self.panel(self.request())
        services.draft(consultation, self.expert, "Observation.")
        services.draft(consultation, self.expert_fr, "Observation with imaging every three months.")
        body = {"vote": "agree", "version": 1}
        response = self.call(self.expert_de, "POST", f"/api/consultations/{consultation.pk}/vote", body)
        self.assertEqual(response.status_code, 422)
        self.assertIn("revised since you read it", response.json()["detail"])
        self.assertEqual(consultation.assignments.get(expert=self.expert_de).vote, "")

    def test_attachments_go_through_the_same_check_and_a_refused_one_stores_nothing(self) -> None:
        bad = [
            ({"name": "report.pdf", "kind": "pathology", "content": b64(b"<html><script>x</script></html>")}, 422),
            ({"name": "scan.pdf", "kind": "radiology", "content": b64(png())}, 422),
            ({"name": "scan.png", "kind": "radiology", "content": "not base64!"}, 422),
            ({"name": "scan.png", "kind": "x-ray", "content": b64(png())}, 422),
        ]
        before = set(Path(settings.MEDIA_ROOT).rglob("*.*"))  # files of the other tests stay on disk
        for attachment, status in bad:
            with self.subTest(attachment["name"]):
                body = {"case": self.case.pk, "question": QUESTION, "attachments": [attachment]}
                self.assertEqual(self.call(self.clinician, "POST", "/api/consultations", body).status_code, status)
        self.assertFalse(Consultation.objects.exists())
        self.assertEqual(set(Path(settings.MEDIA_ROOT).rglob("*.*")), before)
        too_many = {
            "case": self.case.pk,
            "question": QUESTION,
            "attachments": [{"name": "a.png", "content": b64(png())}] * 6,
        }
        self.assertEqual(self.call(self.clinician, "POST", "/api/consultations", too_many).status_code, 422)

    def test_an_attachment_is_added_and_served_as_the_type_its_content_is(self) -> None:
        consultation = self.request()
        body = {"name": "ct.png", "kind": "radiology", "content": b64(png())}
        added = self.ok(self.call(self.clinician, "POST", f"/api/consultations/{consultation.pk}/attachments", body))
        item = added["attachments"][0]
        self.assertEqual((item["name"], item["kind"], item["content_type"]), ("ct.png", "radiology", "image/png"))
        response = self.call(self.nc_italy, "GET", f"/api/consultations/{consultation.pk}/attachments/{item['id']}")
        self.assertEqual((response.status_code, response["Content-Type"]), (200, "image/png"))
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")
        self.assertEqual(response.content, png())
        self.assertEqual(Attachment.objects.get().uploaded_by, self.clinician)

    def test_the_requester_withdraws_and_then_nothing_more_happens(self) -> None:
        consultation = self.request()
        withdrawn = self.ok(self.call(self.clinician, "POST", f"/api/consultations/{consultation.pk}/withdraw"))
        self.assertEqual(withdrawn["status"], "withdrawn")
        response = self.call(self.clinician, "POST", f"/api/consultations/{consultation.pk}/messages", {"text": "x"})
        self.assertEqual(response.status_code, 422)
        self.assertIn("withdrawn", response.json()["detail"])

    def test_the_summary_is_in_the_language_asked_for(self) -> None:
        consultation = self.request()
        english = self.ok(self.call(self.clinician, "GET", f"/api/consultations/{consultation.pk}"))
        italian = self.ok(self.call(self.clinician, "GET", f"/api/consultations/{consultation.pk}", language="it"))
        self.assertEqual([s["code"] for s in english["summary"]], [s["code"] for s in italian["summary"]])
        self.assertNotEqual([s["label"] for s in english["summary"]], [s["label"] for s in italian["summary"]])
        treatment = next(s for s in english["summary"] if s["code"] == "treatment")
        self.assertIn("day 14 after diagnosis", [item["value"] for item in treatment["rows"][0]])

    def test_without_a_token_nothing_is_answered(self) -> None:
        consultation = self.request()
        self.assertEqual(Client().get(f"/api/consultations/{consultation.pk}").status_code, 401)
