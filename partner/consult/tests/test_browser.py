"""A consultation in a real browser, by labels and keyboard-reachable controls, from the case page to
the letter and the follow-up: a clinician asks, a coordinator assigns, the panel answers."""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from partner.accounts.models import Country, Role
from partner.cases.models import AccessLog
from partner.consult.models import Adherence, Consultation, ConsultationStatus, PanelMember
from partner.testing import CHROMIUM, BrowserTestCase

from .story import QUESTION, TemporaryMedia, pdf, png

pytestmark = pytest.mark.browser

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"


@pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
    reason="chromium is not installed (make test installs it)",
)
@override_settings(OTP_TOTP_THROTTLE_FACTOR=0)
class ConsultationStory(TemporaryMedia, BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        germany = Country.objects.create(code="DE", name="Germany")
        self.clinician = self._user("clinician.padova", Role.CLINICIAN, centre=self.padova)
        self.expert.first_name, self.expert.last_name = "Anna", "Bianchi"
        self.expert.save()
        self.expert_milano = self._user("expert.milano", Role.EXPERT)
        self.expert_fr = self._user("expert.fr", Role.EXPERT)
        self.expert_de = self._user("expert.de", Role.EXPERT)
        self.thoracic = self._user("expert.thoracic", Role.EXPERT)
        for user, panel, country in (
            (self.expert, "endocrine", self.italy),
            (self.expert_milano, "endocrine", self.italy),
            (self.expert_fr, "endocrine", self.france),
            (self.expert_de, "endocrine", germany),
            (self.thoracic, "thoracic", germany),
        ):
            PanelMember.objects.create(user=user, panel=panel, country=country)
        self.case = self.register(
            self.padova,
            born="2012-03-04",
            diagnosed="2024-02-01",
            treatment=[
                {
                    "line_type": "surgery",
                    "treatment_start_date": "2024-02-15",
                    "surgery_type": "resection_primary",
                    "resection_margin": "R0",
                }
            ],
        )
        self.pages = [self.page]

    def tearDown(self) -> None:
        for page in self.pages[1:]:
            page.context.close()
        super().tearDown()

    def as_user(self, user, *, code: bool = False, watch: bool = True):
        """A browser of its own for `user`, signed in through the log-in page (and the second factor);
        with `watch`, its script errors and failed loads fail the test."""
        page = self.browser.new_context().new_page()
        if AXE.exists():  # an init script: the pages' policy refuses inline scripts, not these
            page.add_init_script(path=AXE)
        if watch:
            page.on("pageerror", lambda exc: self.errors.append(str(exc)))
            page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        self.pages.append(page)
        self.log_in(page, user)
        if code:
            device = TOTPDevice.objects.get(user=user)
            page.get_by_label("Six-digit code").fill(f"{totp(device.bin_key, step=device.step, t0=device.t0):06d}")
            with page.expect_navigation():
                page.get_by_role("button", name="Confirm").click()
        return page

    def submit(self, page, button: str) -> None:
        with page.expect_navigation():
            page.get_by_role("button", name=button).click()

    def assert_accessible(self, page) -> None:
        """No serious or critical finding of axe-core on the page (when `make test` has installed it)."""
        if not AXE.exists():
            return
        results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        found = [
            f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
            for v in results["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        self.assertEqual(found, [], page.url)

    def alert(self, page) -> str:
        return page.get_by_role("alert").first.inner_text()

    def test_a_request_goes_from_the_case_page_to_the_panels_letter_and_its_follow_up(self) -> None:
        # The clinician asks from the case's page.
        clinician = self.as_user(self.clinician)
        clinician.goto(f"{self.live_server_url}/cases/{self.case.pk}/")
        with clinician.expect_navigation():
            clinician.get_by_role("link", name="Ask the expert panel").click()
        clinician.get_by_label("Clinical question").fill(QUESTION)
        clinician.get_by_label("Urgency").select_option("urgent")
        clinician.get_by_label("File 1", exact=True).set_input_files(
            files=[{"name": "histology.pdf", "mimeType": "application/pdf", "buffer": pdf()}]
        )
        clinician.get_by_label("Kind of file 1").select_option("pathology")
        clinician.get_by_label("File 2", exact=True).set_input_files(
            files=[{"name": "ct-scan.png", "mimeType": "image/png", "buffer": png()}]
        )
        clinician.get_by_label("Kind of file 2").select_option("radiology")
        self.assert_accessible(clinician)
        self.submit(clinician, "Send to the panel")
        consultation = Consultation.objects.get()
        url = f"{self.live_server_url}/consult/{consultation.pk}/"
        self.assertEqual(clinician.url, url)
        self.assertEqual((consultation.urgency, consultation.panel), ("urgent", "endocrine"))
        self.assertEqual(
            sorted(consultation.attachments.values_list("name", "kind", "content_type")),
            [("ct-scan.png", "radiology", "image/png"), ("histology.pdf", "pathology", "application/pdf")],
        )
        self.assertIn("submitted", clinician.get_by_role("heading", level=1).inner_text())

        # The European coordinator assigns the panel: two experts are not enough.
        TOTPDevice.objects.create(user=self.european, name="phone", confirmed=True)
        coordinator = self.as_user(self.european, code=True)
        coordinator.goto(url)
        coordinator.get_by_label("Anna Bianchi (IT)").check()
        coordinator.get_by_label("expert.fr (FR)").check()
        self.submit(coordinator, "Assign")
        self.assertIn("at least 3 experts from at least 2 countries", self.alert(coordinator))
        self.assert_accessible(coordinator)
        self.assertFalse(consultation.assignments.exists())
        coordinator.get_by_label("expert.milano (IT)").check()
        self.assertTrue(coordinator.get_by_label("Anna Bianchi (IT)").is_checked())  # the choice is kept
        self.submit(coordinator, "Assign")
        self.assertEqual(
            sorted(consultation.assignments.values_list("expert__username", flat=True)),
            ["expert", "expert.fr", "expert.milano"],
        )
        self.assertIn("with the panel", coordinator.get_by_role("heading", level=1).inner_text())

        # An expert of another panel is told nothing exists there.
        outsider = self.as_user(self.thoracic, watch=False)  # its 404s are the point
        response = outsider.goto(url)
        self.assertEqual(response.status, 404)
        self.assertNotIn("mitotane", outsider.content())
        response = outsider.goto(f"{url}attachments/{consultation.attachments.first().pk}/")
        self.assertEqual(response.status, 404)

        # An assigned expert reads the summary and the files, asks, drafts.
        expert = self.as_user(self.expert)
        with expert.expect_navigation():
            expert.get_by_role("link", name="Consultations", exact=True).click()
        with expert.expect_navigation():
            expert.get_by_role("link", name=f"Consultation #{consultation.pk}").click()
        summary = expert.locator("#case-summary").locator("..").inner_text()
        self.assertIn("11.9", summary)
        self.assertNotIn(self.case.patient.pseudonym[:12], expert.content())
        self.assertNotIn("Padova", expert.content())
        self.assert_accessible(expert)
        link = expert.get_by_role("link", name="histology.pdf")
        answer = expert.context.request.get(self.live_server_url + link.get_attribute("href"))
        self.assertEqual(answer.headers["content-type"], "application/pdf")
        self.assertEqual(answer.headers["content-disposition"], 'attachment; filename="histology.pdf"')
        self.assertEqual(answer.headers["x-content-type-options"], "nosniff")
        self.assertEqual(answer.body(), pdf())
        with expert.expect_download() as download:
            link.click()
        self.assertEqual(download.value.suggested_filename, "histology.pdf")
        expert.get_by_label("Message").fill("Was the adrenal vein invaded?")
        self.submit(expert, "Send the message")
        self.assertIn("Was the adrenal vein invaded?", expert.locator("#thread").locator("..").inner_text())
        expert.get_by_role("textbox", name="Recommendation", exact=True).fill(
            "Mitotane for two years, aiming at 14-20 mg/l."
        )
        self.submit(expert, "Save the draft")
        consultation.refresh_from_db()
        self.assertEqual(consultation.recommendation.version, 1)
        expert.get_by_label("I agree").check()
        self.submit(expert, "Vote")

        # One expert dissents: first without a reason, which is refused where the vote is cast.
        french = self.as_user(self.expert_fr)
        french.goto(url)
        french.get_by_label("I dissent").check()
        self.submit(french, "Vote")
        self.assertIn("Say why you dissent", self.alert(french))
        self.assert_accessible(french)
        french.get_by_label("I dissent").check()
        french.get_by_label("Comment").fill("Two years is long; one may do.")
        self.submit(french, "Vote")
        self.assertIn("Two years is long", french.get_by_role("table", name="Experts assigned").inner_text())
        # ... and revises the draft, which asks every expert to vote again.
        french.get_by_role("textbox", name="Recommendation", exact=True).fill(
            "Mitotane for at least one year, aiming at 14-20 mg/l."
        )
        self.submit(french, "Save the draft")
        consultation.refresh_from_db()
        self.assertEqual(consultation.recommendation.version, 2)
        self.assertEqual(set(consultation.assignments.values_list("vote", flat=True)), {""})
        for page in (french, expert, self.as_user(self.expert_milano)):  # by keyboard
            page.goto(url)
            page.get_by_label("I agree").focus()
            page.keyboard.press("Space")
            page.get_by_role("button", name="Vote").focus()
            with page.expect_navigation():
                page.keyboard.press("Enter")
        consultation.refresh_from_db()
        self.assertEqual(consultation.status, ConsultationStatus.SENT)

        # The clinician reads the recommendation and downloads the letter.
        clinician.reload()
        self.assertIn("recommendation sent", clinician.get_by_role("heading", level=1).inner_text())
        with clinician.expect_download() as download:
            clinician.get_by_role("link", name="Download the letter (PDF)").click()
        letter = Path(download.value.path()).read_bytes()
        self.assertTrue(letter.startswith(b"%PDF"))

        # At follow-up the data manager records whether it was followed.
        manager = self.as_user(self.dm_padova)
        manager.goto(f"{self.live_server_url}/cases/{self.case.pk}/")
        self.assertIn("recommendation sent", manager.locator("#consultations-heading").locator("..").inner_text())
        with manager.expect_navigation():
            manager.get_by_role("link", name=f"Consultation #{consultation.pk}").click()
        manager.get_by_label("Was the recommendation followed?").select_option("partly")
        manager.get_by_label("Outcome at follow-up").select_option("ned")
        self.submit(manager, "Record the follow-up")
        self.assertIn("what was done instead", self.alert(manager))
        self.assertFalse(Adherence.objects.exists())
        manager.get_by_label("If not, or only partly").fill("One year of mitotane, stopped for toxicity.")
        self.submit(manager, "Record the follow-up")
        self.assertEqual(Adherence.objects.get().followed, "partly")
        self.assert_accessible(manager)

        # The coordinator's dashboard shows it.
        coordinator.goto(url)
        with coordinator.expect_navigation():
            coordinator.get_by_role("link", name="Expert consultations").click()
        with coordinator.expect_navigation():
            coordinator.get_by_role("link", name="Dashboard: volumes, turnaround, adherence").click()
        adherence = coordinator.get_by_role("table", name="Adherence to the panel's recommendations by tumour")
        row = adherence.get_by_role("row", name=self.case.entity.names["en"])
        self.assertEqual(row.get_by_role("cell").all_inner_texts(), ["1", "1", "0", "1", "0", "0 %"])
        self.assert_accessible(coordinator)

        reads = set(AccessLog.objects.filter(case=self.case).values_list("user__username", "what"))
        self.assertIn(("expert", f"consultation attachment {consultation.attachments.first().pk}"), reads)
        self.assertNotIn("expert.thoracic", {username for username, _what in reads})
        self.assertEqual(self.errors, [])
