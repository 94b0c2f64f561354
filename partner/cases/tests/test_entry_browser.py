"""Data entry in a real browser: a failed save lands on its error summary, Enter does not submit, leaving asks."""

import os

import pytest

from partner.cases.models import TumourCase
from partner.testing import CHROMIUM, BrowserTestCase

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
        reason="chromium is not installed (make test installs it)",
    ),
]


class EntryBrowserCase(BrowserTestCase):
    def start_acc_case(self) -> None:
        page = self.page
        self.log_in(page, self.dm_padova)
        page.goto(self.live_server_url + "/cases/new/")
        page.fill('[name="identity-given_names"]', "Chiara")
        page.fill('[name="identity-family_names"]', "Bellini")
        page.fill('[name="identity-date_of_birth"]', "2011-04-03")
        page.select_option('[name="identity-sex"]', "female")
        page.select_option('[name="identity-country_of_birth"]', "IT")
        page.fill('[name="diagnosis-diagnosis_date"]', "2023-05-06")
        page.fill('[name="diagnosis-morphology"]', "8370/3")
        page.fill('[name="diagnosis-topography"]', "C74.0")
        page.press('[name="diagnosis-topography"]', "Tab")
        page.wait_for_selector('[name="acc-acc_weiss_score"]')


class AFailedSaveLandsOnTheErrorSummary(EntryBrowserCase):
    def test_a_weiss_score_of_12_is_listed_at_the_top_focused_and_its_link_reaches_the_field(self):
        page = self.page
        self.start_acc_case()
        page.fill('[name="acc-acc_weiss_score"]', "12")
        with page.expect_navigation():
            page.click("main form button.primary")

        self.assertEqual(TumourCase.objects.count(), 0)
        self.assertTrue(page.title().startswith("Error: "), page.title())
        summary = page.locator("[data-error-summary]")
        self.assertEqual(page.evaluate("document.activeElement.hasAttribute('data-error-summary')"), True)
        box = summary.bounding_box()
        viewport = page.viewport_size
        self.assertIsNotNone(box)
        self.assertGreaterEqual(box["y"], 0)
        self.assertLess(box["y"], viewport["height"])
        link = summary.locator('a[href="#id_acc-acc_weiss_score"]')
        self.assertIn("Weiss score", link.inner_text())
        link.click()
        self.assertEqual(page.evaluate("document.activeElement.id"), "id_acc-acc_weiss_score")
        field = page.locator("#id_acc-acc_weiss_score").bounding_box()
        self.assertGreaterEqual(field["y"], 0)
        self.assertLess(field["y"], viewport["height"])
        self.assertEqual(page.input_value('[name="acc-acc_weiss_score"]'), "12")  # nothing typed is lost
        self.assertEqual(self.errors, [])


class EnterDoesNotSubmitTheCaseForm(EntryBrowserCase):
    def test_enter_in_a_text_field_stays_on_the_page(self):
        page = self.page
        self.start_acc_case()
        posts: list[str] = []
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and "/cases/new/" in r.url else None)
        page.press('[name="identity-family_names"]', "Enter")
        page.press('[name="acc-acc_weiss_score"]', "Enter")
        page.press('[name="diagnosis-diagnosis_date"]', "Enter")
        page.wait_for_timeout(300)
        self.assertEqual(posts, [])
        self.assertTrue(page.url.endswith("/cases/new/"))
        self.assertEqual(TumourCase.objects.count(), 0)


class LeavingWithUnsavedChangesAsksFirst(EntryBrowserCase):
    def test_a_change_arms_the_question_and_saving_does_not_ask(self):
        page = self.page
        self.log_in(page, self.dm_padova)
        case = self.register(self.padova)
        page.goto(self.live_server_url + f"/cases/{case.pk}/edit/")
        dirty = "document.querySelector('form[data-entry]').dataset.dirty === 'true'"
        self.assertFalse(page.evaluate(dirty))
        asked: list[str] = []

        def dismiss(dialog):
            asked.append(dialog.type)
            dialog.dismiss()

        page.on("dialog", dismiss)
        page.fill('[name="diagnosis-topography"]', "C74.1")
        self.assertTrue(page.evaluate(dirty))
        page.locator(f'main form a[href="/cases/{case.pk}/"]').click()
        page.wait_for_timeout(500)
        self.assertEqual(asked, ["beforeunload"])
        self.assertTrue(page.url.endswith(f"/cases/{case.pk}/edit/"))  # stayed: nothing typed is lost

        asked.clear()
        page.fill('[name="diagnosis-topography"]', "C74.0")
        with page.expect_navigation():
            page.click("main form button.primary")
        self.assertEqual(asked, [])
        self.assertTrue(page.url.endswith(f"/cases/{case.pk}/"), page.url)

    def test_an_untouched_page_leaves_without_asking(self):
        page = self.page
        self.log_in(page, self.dm_padova)
        case = self.register(self.padova)
        page.goto(self.live_server_url + f"/cases/{case.pk}/edit/")
        asked: list[str] = []
        page.on("dialog", lambda d: (asked.append(d.type), d.dismiss()))
        with page.expect_navigation():
            page.locator(f'main form a[href="/cases/{case.pk}/"]').click()
        self.assertEqual(asked, [])
