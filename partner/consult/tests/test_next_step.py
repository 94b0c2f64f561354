"""The next step of a consultation is shown to whoever must take it, and to nobody else."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client
from django.utils import timezone

from partner.accounts.models import Role
from partner.consult import services
from partner.consult.models import Consultation, PanelMember
from partner.consult.next_step import Action, next_step, status_line

from .story import ConsultStory


class NextStepStory(ConsultStory):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.spare = cls._user("expert.spare", Role.EXPERT)
        PanelMember.objects.create(user=cls.spare, panel="endocrine", country=cls.italy)
        cls.everyone = {
            "clinician": cls.clinician,
            "dm_padova": cls.dm_padova,
            "nc_italy": cls.nc_italy,
            "european": cls.european,
            "expert": cls.expert,
            "expert_fr": cls.expert_fr,
            "expert_de": cls.expert_de,
            "spare": cls.spare,
            "dm_paris": cls.dm_paris,
        }

    def steps(self, consultation: Consultation) -> dict[str, str]:
        """Who has a step to take on the request, and which."""
        consultation = Consultation.objects.get(pk=consultation.pk)
        found = {name: next_step(consultation, user) for name, user in self.everyone.items()}
        return {name: step.action for name, step in found.items() if step is not None}

    def page(self, user: Any, consultation: Consultation) -> str:
        client = Client()
        self.sign_in(client, user)
        response = client.get(f"/consult/{consultation.pk}/")
        self.assertEqual(response.status_code, 200)
        return response.content.decode()

    def split_vote(self) -> Consultation:
        """Two agree and one dissents on the draft of the Italian expert."""
        consultation = self.panel(self.request())
        services.draft(consultation, self.expert, "Mitotane for two years.")
        services.vote(consultation, self.expert, "agree")
        services.vote(consultation, self.expert_fr, "agree")
        services.vote(consultation, self.expert_de, "dissent", "Two years is long for a complete resection.")
        return consultation


class TheWorkflowStepsTests(NextStepStory):
    def test_a_submitted_request_asks_the_coordinators_to_assign_experts(self) -> None:
        consultation = self.request()
        self.assertEqual(self.steps(consultation), {"nc_italy": Action.ASSIGN, "european": Action.ASSIGN})
        self.assertIn("Assign the panel", self.page(self.nc_italy, consultation))
        page = self.page(self.clinician, consultation)
        self.assertNotIn("Your next step", page)
        self.assertIn("Waiting for a coordinator to assign", page)

    def test_assigned_experts_are_asked_to_draft_until_one_does(self) -> None:
        consultation = self.panel(self.request())
        draft = {"expert": Action.DRAFT, "expert_fr": Action.DRAFT, "expert_de": Action.DRAFT}
        self.assertEqual(self.steps(consultation), draft)
        self.assertIn('href="#draft"', self.page(self.expert_de, consultation))

    def test_each_expert_who_has_not_voted_is_asked_to_vote(self) -> None:
        consultation = self.panel(self.request())
        services.draft(consultation, self.expert, "Mitotane for two years.")
        services.vote(consultation, self.expert, "agree")
        self.assertEqual(self.steps(consultation), {"expert_fr": Action.VOTE, "expert_de": Action.VOTE})
        page = self.page(self.expert_fr, consultation)
        self.assertIn("Vote on version 1 of the recommendation", page)
        self.assertIn("1 of 3 experts has voted.", page)
        self.assertNotIn("Your next step", self.page(self.expert, consultation))

    def test_two_agree_and_one_dissents_asks_the_drafter_to_revise_and_the_coordinators_to_add_an_expert(self) -> None:
        consultation = self.split_vote()
        self.assertEqual(
            self.steps(consultation),
            {"expert": Action.REVISE, "nc_italy": Action.ADD_EXPERT, "european": Action.ADD_EXPERT},
        )
        drafter = self.page(self.expert, consultation)
        self.assertIn("Revise the recommendation", drafter)
        self.assertIn("2 experts agree and 1 dissents; at least 3 must agree.", drafter)
        coordinator = self.page(self.european, consultation)
        self.assertIn("Add an expert to the panel", coordinator)
        self.assertIn("One more agreeing vote is missing.", coordinator)
        self.assertIn('href="#panel"', coordinator)
        for other in (self.expert_fr, self.clinician):
            page = self.page(other, consultation)
            self.assertNotIn("Your next step", page)
            self.assertIn("Waiting for the drafter to revise it or a coordinator to add an expert.", page)

    def test_the_added_expert_is_asked_to_vote_and_their_agreement_sends_the_letter(self) -> None:
        consultation = self.split_vote()
        services.assign(consultation, self.european, [self.spare])
        self.assertEqual(self.steps(consultation), {"spare": Action.VOTE})
        self.assertTrue(services.vote(consultation, self.spare, "agree"))

    def test_a_revision_asks_every_expert_to_vote_again(self) -> None:
        consultation = self.split_vote()
        services.draft(consultation, self.expert, "Mitotane for one year.")
        self.assertEqual(
            self.steps(consultation), {"expert": Action.VOTE, "expert_fr": Action.VOTE, "expert_de": Action.VOTE}
        )

    def test_without_a_spare_member_of_the_panel_only_the_drafter_has_a_step(self) -> None:
        PanelMember.objects.filter(user=self.spare).update(active=False)
        consultation = self.split_vote()
        self.assertEqual(self.steps(consultation), {"expert": Action.REVISE})

    def test_the_requester_records_the_follow_up_once_it_is_due(self) -> None:
        consultation = self.panel(self.request())
        services.draft(consultation, self.expert, "Mitotane for one year.")
        for expert in (self.expert, self.expert_fr, self.expert_de):
            services.vote(consultation, expert, "agree")
        self.assertEqual(self.steps(consultation), {})
        self.assertIn("records the follow-up from", status_line(Consultation.objects.get(pk=consultation.pk)))
        Consultation.objects.filter(pk=consultation.pk).update(sent_at=timezone.now() - dt.timedelta(days=91))
        self.assertEqual(self.steps(consultation), {"clinician": Action.FOLLOW_UP})
        services.record_adherence(
            Consultation.objects.get(pk=consultation.pk), self.clinician, followed="yes", outcome="ned"
        )
        self.assertEqual(self.steps(consultation), {})

    def test_a_withdrawn_request_asks_nothing_of_anyone(self) -> None:
        consultation = self.panel(self.request())
        services.withdraw(consultation, self.clinician)
        self.assertEqual(self.steps(consultation), {})
