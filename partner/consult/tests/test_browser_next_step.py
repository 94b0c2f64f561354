"""In a real browser: after a split vote the drafter is told to revise and the coordinator to add an
expert; the added expert is told to vote, votes, and downloads the letter they voted on."""

import os
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from partner.accounts.models import Country, Role
from partner.cases.models import AccessLog
from partner.consult import services
from partner.consult.models import ConsultationStatus, PanelMember
from partner.testing import CHROMIUM, BrowserTestCase

from .story import TemporaryMedia

pytestmark = pytest.mark.browser


@pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
    reason="chromium is not installed (make test installs it)",
)
@override_settings(OTP_TOTP_THROTTLE_FACTOR=0)
class AnExpertVotesAndDownloadsTheLetter(TemporaryMedia, BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        germany = Country.objects.create(code="DE", name="Germany")
        clinician = self._user("clinician.padova", Role.CLINICIAN, centre=self.padova)
        self.expert_fr = self._user("expert.fr", Role.EXPERT)
        self.expert_de = self._user("expert.de", Role.EXPERT)
        self.expert_milano = self._user("expert.milano", Role.EXPERT)
        for user, country in (
            (self.expert, self.italy),
            (self.expert_fr, self.france),
            (self.expert_de, germany),
            (self.expert_milano, self.italy),
        ):
            PanelMember.objects.create(user=user, panel="endocrine", country=country)
        case = self.register(self.padova, born="2012-03-04", diagnosed="2024-02-01")
        self.consultation = services.submit(case, clinician, question="Adjuvant mitotane after an R0 resection?")
        services.assign(self.consultation, self.european, [self.expert, self.expert_fr, self.expert_de])
        services.draft(self.consultation, self.expert, "Mitotane for two years.")
        services.vote(self.consultation, self.expert, "agree")
        services.vote(self.consultation, self.expert_fr, "agree")
        services.vote(self.consultation, self.expert_de, "dissent", "Two years is long.")
        self.contexts: list[Any] = []

    def tearDown(self) -> None:
        for context in self.contexts:
            context.close()
        super().tearDown()

    def as_user(self, user: Any, *, code: bool = False) -> Any:
        context = self.browser.new_context()
        self.contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.log_in(page, user)
        if code:
            device = TOTPDevice.objects.get(user=user)
            page.get_by_label("Six-digit code").fill(f"{totp(device.bin_key, step=device.step, t0=device.t0):06d}")
            with page.expect_navigation():
                page.get_by_role("button", name="Confirm").click()
        page.goto(f"{self.live_server_url}/consult/{self.consultation.pk}/")
        return page

    def next_step(self, page: Any) -> str:
        return str(page.locator("#next-step").inner_text())

    def test_the_next_steps_lead_from_a_split_vote_to_the_letter(self) -> None:
        drafter = self.as_user(self.expert)
        self.assertIn("Revise the recommendation", self.next_step(drafter))
        self.assertIn("2 experts agree and 1 dissents", self.next_step(drafter))

        TOTPDevice.objects.create(user=self.european, name="phone", confirmed=True)
        coordinator = self.as_user(self.european, code=True)
        self.assertIn("Add an expert to the panel", self.next_step(coordinator))
        coordinator.locator("#next-step").get_by_role("link", name="Add an expert to the panel").click()
        coordinator.wait_for_url("**#panel")
        coordinator.get_by_label("expert.milano (IT)").check()
        with coordinator.expect_navigation():
            coordinator.get_by_role("button", name="Assign").click()

        added = self.as_user(self.expert_milano)
        self.assertIn("Vote on version 1 of the recommendation", self.next_step(added))
        added.get_by_label("I agree").check()
        with added.expect_navigation():
            added.get_by_role("button", name="Vote").click()
        self.consultation.refresh_from_db()
        self.assertEqual(self.consultation.status, ConsultationStatus.SENT)
        self.assertEqual(added.locator("#next-step").count(), 0)
        with added.expect_download() as download:
            added.get_by_role("link", name="Download the letter (PDF)").click()
        self.assertTrue(Path(download.value.path()).read_bytes().startswith(b"%PDF"))
        self.assertTrue(AccessLog.objects.filter(user=self.expert_milano, what="consultation letter").exists())

        # The dissenting expert signed the letter too, and downloads it.
        dissenter = self.as_user(self.expert_de)
        with dissenter.expect_download() as download:
            dissenter.get_by_role("link", name="Download the letter (PDF)").click()
        self.assertTrue(Path(download.value.path()).read_bytes().startswith(b"%PDF"))
        self.assertEqual(self.errors, [])
