"""Every expert who voted on a sent recommendation downloads its letter, without the centre's names."""

from __future__ import annotations

from typing import Any
from unittest import mock

import weasyprint
from django.test import Client

from partner.accounts.models import ApiToken, Role
from partner.cases.models import AccessLog
from partner.consult import services
from partner.consult.models import Consultation, PanelMember

from .story import ConsultStory


class LetterStory(ConsultStory):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.spare = cls._user("expert.spare", Role.EXPERT)
        PanelMember.objects.create(user=cls.spare, panel="endocrine", country=cls.italy)
        cls.sent = services.submit(cls.case, cls.clinician, question="Radiotherapy of the tumour bed?")
        services.assign(cls.sent, cls.european, [cls.expert, cls.expert_fr, cls.expert_de])
        services.draft(cls.sent, cls.expert_fr, "No radiotherapy.")
        for expert in (cls.expert, cls.expert_fr, cls.expert_de):
            services.vote(cls.sent, expert, "agree")

    def get(self, user: Any, path: str) -> Any:
        client = Client()
        self.sign_in(client, user)
        return client.get(path)


class ExpertsLetterTests(LetterStory):
    def test_each_expert_who_voted_downloads_the_letter_and_finds_the_link(self) -> None:
        for expert in (self.expert, self.expert_fr, self.expert_de):
            response = self.get(expert, f"/consult/{self.sent.pk}/letter.pdf")
            self.assertEqual(response.status_code, 200, expert)
            self.assertEqual(response["Content-Type"], "application/pdf")
            self.assertTrue(response.content.startswith(b"%PDF"))
            page = self.get(expert, f"/consult/{self.sent.pk}/").content.decode()
            self.assertIn(f'href="/consult/{self.sent.pk}/letter.pdf"', page)
            self.assertTrue(
                AccessLog.objects.filter(user=expert, case=self.case, what="consultation letter").exists(), expert
            )

    def test_the_experts_copy_holds_the_recommendation_and_not_the_centre(self) -> None:
        with mock.patch("weasyprint.HTML", wraps=weasyprint.HTML) as html:
            response = self.get(self.expert_de, f"/consult/{self.sent.pk}/letter.pdf")
        self.assertTrue(response.content.startswith(b"%PDF"))
        written = html.call_args.kwargs["string"]
        self.assertIn("No radiotherapy.", written)
        self.assertIn("Radiotherapy of the tumour bed?", written)
        self.assertIn("the requesting centre", written)
        for trace in ("Padova", "clinician.padova", f"Registry case {self.case.pk}"):
            self.assertNotIn(trace, written)
        # Those whose scope holds the case download the letter stored when it was sent, addressed to the centre.
        stored = self.get(self.clinician, f"/consult/{self.sent.pk}/letter.pdf").content
        with Consultation.objects.get(pk=self.sent.pk).recommendation.letter.open("rb") as handle:
            self.assertEqual(stored, handle.read())

    def test_an_expert_not_assigned_gets_404_and_no_log(self) -> None:
        for outsider in (self.spare, self.outsider, self.researcher, self.dm_paris):
            self.assertEqual(self.get(outsider, f"/consult/{self.sent.pk}/letter.pdf").status_code, 404, outsider)
            self.assertFalse(AccessLog.objects.filter(user=outsider).exists())

    def test_an_expert_has_no_letter_before_it_is_sent(self) -> None:
        open_request = self.panel(services.submit(self.case, self.clinician, question="Mitotane?"))
        services.draft(open_request, self.expert, "Mitotane for one year.")
        services.vote(open_request, self.expert, "agree")
        self.assertEqual(self.get(self.expert, f"/consult/{open_request.pk}/letter.pdf").status_code, 404)
        self.assertNotIn("letter.pdf", self.get(self.expert, f"/consult/{open_request.pk}/").content.decode())

    def test_the_api_gives_the_voting_expert_the_letter_and_others_404(self) -> None:
        def call(user: Any) -> Any:
            key = ApiToken.issue(user, "api")[1]
            return Client().get(f"/api/consultations/{self.sent.pk}/letter", headers={"authorization": f"Bearer {key}"})

        response = call(self.expert_fr)
        self.assertEqual(response.status_code, 200)
        self.assertTrue(response.content.startswith(b"%PDF"))
        self.assertTrue(AccessLog.objects.filter(user=self.expert_fr, what="consultation api letter").exists())
        self.assertEqual(call(self.spare).status_code, 404)
