"""The start page and the dictionary browser in a real browser (Debian's chromium, headless)."""

import os

import pytest

from partner.testing import CHROMIUM, BrowserTestCase

pytestmark = pytest.mark.browser


@pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
    reason="chromium is not installed (make test installs it)",
)
class BrowserTests(BrowserTestCase):
    def test_the_start_page_shows_the_counts_and_switches_language(self):
        for i in range(6):
            self.register(self.padova, given=f"Child{i}", case_status="submitted")
        self.page.goto(self.live_server_url + "/")
        shown = self.page.locator(".card .n").first.inner_text()
        self.assertLessEqual(abs(int(shown) - 6), 2)  # six cases, released: changed by at most 2
        with self.page.expect_navigation():
            self.page.select_option("#language", "it")
        self.assertEqual(self.page.locator("html").get_attribute("lang"), "it")
        self.assertIn(self.dictionary.entity_by_code["ACC"].names.it, self.page.content())
        self.assertEqual(self.errors, [])

    def test_the_dictionary_filter_narrows_the_table_as_one_types(self):
        self.page.goto(self.live_server_url + "/dictionary/")
        rows = self.page.locator("#entities tbody tr")
        total = rows.count()
        self.assertGreaterEqual(total, 25)
        self.page.fill("#q", "blastoma")
        # A function, not an expression: the page's Content Security Policy forbids evaluating strings.
        self.page.wait_for_function(f"() => document.querySelectorAll('#entities tbody tr').length < {total}")
        texts = rows.all_inner_texts()
        self.assertTrue(texts and all("blastoma" in t.lower() for t in texts), texts)
        self.page.click("text=" + self.dictionary.entity_by_code["PPB"].names.en)
        self.page.wait_for_url("**/dictionary/entities/PPB/**")
        self.assertIn("8973", self.page.content())
        self.assertEqual(self.errors, [])

    def test_the_new_case_form_shows_a_conditional_field_only_when_its_condition_holds(self):
        from django.conf import settings
        from django.test import Client

        client = Client()
        self.sign_in(client, self.dm_padova)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        self.page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": self.live_server_url}]
        )
        self.page.goto(self.live_server_url + "/cases/new/")
        death = self.page.locator('[name="status-date_of_death"]')
        self.assertFalse(death.is_visible())
        self.page.select_option('[name="status-patient_status"]', "dead")
        self.assertTrue(death.is_visible())
        self.page.select_option('[name="status-patient_status"]', "alive")
        self.assertFalse(death.is_visible())
        self.assertEqual(self.errors, [])
