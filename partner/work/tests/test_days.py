"""Each role's day in a real browser, from the log-in page on, by the links the pages offer.

A data manager in Padova answers a new clarification query by correcting the case, fails a save and
lands on the error summary, and finds a case by its identifier at the source; the Italian coordinator
validates a case from My work. The European coordinator filtering the linkage queue by entity is
partner/lists/tests/test_browser.py; an expert voting and downloading the letter is
partner/consult/tests/test_browser_next_step.py.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.test import override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from partner.cases.models import Status, TumourCase
from partner.quality import queries
from partner.quality.models import Query, QueryStatus
from partner.testing import CHROMIUM, BrowserTestCase

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
        reason="chromium is not installed (make test installs it)",
    ),
]

WEISS = '[name="acc-acc_weiss_score"]'


@override_settings(OTP_TOTP_THROTTLE_FACTOR=0)
class ADayAtTheRegistry(BrowserTestCase):
    """Padova holds a draft adrenocortical carcinoma registered with a Weiss score of 7 the pathology
    report does not support, queried by the Italian coordinator; Padova and Milano each hold a
    submitted case awaiting validation. Padova's two cases have neighbouring identifiers at the source."""

    def setUp(self) -> None:
        super().setUp()
        self.acc = self.register(self.padova, "Chiara", "Bellini", acc={"acc_weiss_score": 7})
        self.submitted_here = self.register(self.padova, "Paolo", "Neri", born="2010-07-08", case_status="submitted")
        TumourCase.objects.filter(pk=self.acc.pk).update(external_id="PD-ACC-0417")
        TumourCase.objects.filter(pk=self.submitted_here.pk).update(external_id="PD-ACC-0418")
        self.submitted_milano = self.register(self.milano, "Luca", "Verdi", case_status="submitted")
        self.query = queries.raise_query(
            self.acc,
            "acc.acc_weiss_score",
            "The pathology report counts 4 Weiss criteria, the case 7: which is right?",
            None,
            self.nc_italy,
        )

    def follow(self, page: Any, link: Any) -> None:
        with page.expect_navigation():
            link.click()

    def assert_in_view(self, page: Any, selector: str) -> None:
        box = page.locator(selector).bounding_box()
        self.assertIsNotNone(box, selector)
        self.assertGreaterEqual(box["y"], 0)
        self.assertLess(box["y"], page.viewport_size["height"])

    def test_a_data_manager_answers_a_query_fails_a_save_and_finds_a_case_by_its_external_id(self) -> None:
        page = self.page
        self.log_in(page, self.dm_padova)
        self.assertEqual(page.url, self.live_server_url + "/work/")

        # The new query waits on My work; its page shows the value now held and where to correct it.
        waiting = page.locator("#work-queries")
        self.assertEqual(waiting.get_attribute("data-count"), "1")
        row = waiting.locator("li", has_text=f"Case {self.acc.pk} · Adrenocortical carcinoma: Weiss score")
        self.assertIn("new query", row.inner_text())
        self.follow(page, row.get_by_role("link"))
        self.assertEqual(page.url, f"{self.live_server_url}/quality/queries/{self.query.pk}/")
        self.assertEqual(page.locator("#current-value").inner_text().split("·")[0].strip(), "7")

        self.follow(page, page.get_by_role("link", name="Correct it in the case"))
        self.assertEqual(page.url, f"{self.live_server_url}/cases/{self.acc.pk}/edit/acc/#id_acc-acc_weiss_score")
        self.assertEqual(page.input_value(WEISS), "7")
        self.assert_in_view(page, WEISS)
        page.fill(WEISS, "4")
        self.follow(page, page.locator("main form button.primary"))
        self.assertIn("Saved", page.locator(".message").first.inner_text())
        self.assertEqual(self.acc.records.get(form__code="acc").values["acc_weiss_score"], 4)

        # Back to the query from the case page's quality section: the corrected value, then the answer.
        self.follow(page, page.locator(f'#quality-heading ~ ul a[href="/quality/queries/{self.query.pk}/"]'))
        self.assertEqual(page.locator("#current-value").inner_text().split("·")[0].strip(), "4")
        page.get_by_label("Message").fill("Corrected to 4, as the pathology report says.")
        self.follow(page, page.get_by_role("button", name="Send the answer"))
        self.query.refresh_from_db()
        self.assertEqual(self.query.status, QueryStatus.ANSWERED)
        self.assertEqual(
            list(self.query.messages.values_list("text", flat=True)).pop(),
            "Corrected to 4, as the pathology report says.",
        )
        self.assertIn("answered", page.locator("h1 .tag").inner_text())
        self.assertIn("Corrected to 4, as the pathology report says.", page.locator("main").inner_text())
        self.follow(page, page.get_by_role("navigation", name="Main").get_by_role("link", name="My work"))
        self.assertEqual(page.locator("#work-queries").get_attribute("data-count"), "0")

        # A Weiss score of 12 (at most 9) fails the module's save: the summary is read first, its link
        # leads to the field, and nothing is saved.
        self.follow(page, page.get_by_role("navigation", name="Main").get_by_role("link", name="Cases"))
        self.follow(page, page.get_by_role("link", name=f"#{self.acc.pk}", exact=True))
        self.follow(page, page.get_by_role("link", name="Edit Adrenocortical carcinoma"))
        page.fill(WEISS, "12")
        self.follow(page, page.locator("main form button.primary"))
        self.assertEqual(page.url, f"{self.live_server_url}/cases/{self.acc.pk}/edit/acc/")
        self.assertTrue(page.title().startswith("Error: "), page.title())
        summary = page.locator("[data-error-summary]")
        summary.wait_for()
        self.assertTrue(page.evaluate("document.activeElement.hasAttribute('data-error-summary')"))
        self.assert_in_view(page, "[data-error-summary]")
        link = summary.locator('a[href="#id_acc-acc_weiss_score"]')
        self.assertIn("Weiss score", link.inner_text())
        link.click()
        page.wait_for_function("document.activeElement.id === 'id_acc-acc_weiss_score'")
        self.assert_in_view(page, WEISS)
        self.assertEqual(page.input_value(WEISS), "12")
        self.assertEqual(self.acc.records.get(form__code="acc").values["acc_weiss_score"], 4)

        # Back at the list, the identifier at the source finds its case and no other.
        self.follow(page, page.get_by_role("navigation", name="Main").get_by_role("link", name="Cases"))
        self.assertEqual(page.locator("table tbody tr").count(), 2)
        page.get_by_label("Search").fill("PD-ACC-0417")
        self.follow(page, page.get_by_role("button", name="Filter"))
        self.assertIn("q=PD-ACC-0417", page.url)
        rows = page.locator("table tbody tr")
        self.assertEqual(rows.count(), 1)
        self.assertIn(f"#{self.acc.pk}", rows.first.inner_text())
        self.assertIn("PD-ACC-0417", rows.first.inner_text())
        self.assertEqual(page.locator(".count").inner_text(), "1 case")
        self.assertEqual(self.errors, [])

    def test_the_national_coordinator_validates_a_case_from_my_work(self) -> None:
        device = TOTPDevice.objects.create(user=self.nc_italy, name="phone", confirmed=True)
        page = self.page
        self.log_in(page, self.nc_italy)
        page.get_by_label("Six-digit code").fill(f"{totp(device.bin_key, step=device.step, t0=device.t0):06d}")
        self.follow(page, page.get_by_role("button", name="Confirm"))
        self.assertEqual(page.url, self.live_server_url + "/work/")

        to_validate = page.locator("#work-to_validate")
        self.assertEqual(to_validate.get_attribute("data-count"), "2")
        self.follow(page, to_validate.get_by_role("link", name="Cases to validate"))
        rows = page.locator("table tbody tr")
        self.assertEqual(rows.count(), 2)
        self.assertEqual(page.locator(".count").inner_text(), "2 cases")
        self.follow(page, page.get_by_role("link", name=f"#{self.submitted_milano.pk}", exact=True))
        self.assertEqual(page.url, f"{self.live_server_url}/cases/{self.submitted_milano.pk}/")
        self.follow(page, page.get_by_role("button", name="Make validated"))
        self.assertIn("The case is now validated.", page.locator("main").inner_text())
        self.assertEqual(page.locator("dl.meta .tag").inner_text(), "validated")
        self.submitted_milano.refresh_from_db()
        self.assertEqual(self.submitted_milano.status, Status.VALIDATED)
        self.assertEqual(TumourCase.objects.get(pk=self.submitted_here.pk).status, Status.SUBMITTED)

        self.follow(page, page.get_by_role("navigation", name="Main").get_by_role("link", name="My work"))
        self.assertEqual(page.locator("#work-to_validate").get_attribute("data-count"), "1")
        self.assertFalse(Query.objects.exclude(status=QueryStatus.OPEN).exists())  # the query waits for Padova
        self.assertEqual(self.errors, [])
