"""The registry on a phone (390 x 844): a header that folds away, figures whose labels can be read."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from partner.testing import CHROMIUM, BrowserTestCase

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
        reason="chromium is not installed (make test installs it)",
    ),
]

PHONE = {"width": 390, "height": 844}
#: Children with adrenocortical carcinoma: diagnosed, dead on (None: alive), last contact.
STORIES = [
    ("padova", "2016-03-01", None, "2025-01-10"),
    ("padova", "2017-05-12", "2019-02-01", "2019-01-20"),
    ("padova", "2018-09-30", None, "2024-11-02"),
    ("padova", "2019-01-15", "2021-06-30", "2021-06-01"),
    ("padova", "2020-07-07", None, "2025-03-03"),
    ("padova", "2021-02-20", None, "2024-08-15"),
    ("paris", "2018-04-04", "2020-10-10", "2020-09-01"),
    ("paris", "2019-11-11", None, "2025-02-02"),
]
#: The height of the header, the width of the page and the smallest text of its figures, as the screen shows them.
MEASURE = """() => {
  const texts = [...document.querySelectorAll('svg[role="img"] text')]
    .filter(t => t.textContent.trim() && t.getClientRects().length);
  const heights = texts.map(t => {
    const box = t.getBoundingClientRect();
    return (t.getAttribute('transform') || '').includes('rotate') ? box.width : box.height;
  });
  return {
    header: document.querySelector('header').getBoundingClientRect().height,
    width: document.scrollingElement.scrollWidth,
    figures: document.querySelectorAll('svg[role="img"]').length,
    texts: texts.length,
    smallest: texts.map((t, i) => [heights[i], t.textContent]).sort((a, b) => a[0] - b[0]).slice(0, 3),
  };
}"""


class PhoneStory(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        for i, (centre, diagnosed, died, seen) in enumerate(STORIES):
            status = {"patient_status": "dead" if died else "alive", "last_contact_date": seen}
            if died:
                status.update(date_of_death=died, cause_of_death="tumour")
            self.register(
                getattr(self, centre),
                given=f"C{i}",
                born=f"{2006 + i}-06-0{1 + i}",
                diagnosed=diagnosed,
                diagnosis={"diagnosis_date": diagnosed, "morphology": "8370/3", "topography": "C74.0"},
                status=status,
                case_status="validated",
            )
        self.page.set_viewport_size(PHONE)

    def enter_as(self, user: Any) -> None:
        """Signed in as `user` (with a second factor where the role needs one), without the log-in page."""
        client = Client()
        self.sign_in(client, user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        self.page.context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": self.live_server_url}]
        )

    def visit(self, path: str) -> dict[str, Any]:
        response = self.page.goto(self.live_server_url + path)
        self.assertEqual(response.status, 200, path)
        return self.page.evaluate(MEASURE)


class TheHeaderFoldsOnAPhone(PhoneStory):
    def test_it_takes_one_line_and_nothing_scrolls_sideways_on_the_public_and_the_working_pages(self) -> None:
        pages = ["/", "/statistics/"]
        for path in pages:
            with self.subTest(path):
                seen = self.visit(path)
                self.assertLessEqual(seen["header"], 140)
                self.assertLessEqual(seen["width"], PHONE["width"])
        self.enter_as(self.european)
        for path in ["/reports/ACC/", "/work/"]:
            with self.subTest(path):
                seen = self.visit(path)
                self.assertLessEqual(seen["header"], 140)
                self.assertLessEqual(seen["width"], PHONE["width"])
        self.assertEqual(self.errors, [])

    def test_the_menu_opens_with_its_button_and_with_the_keyboard(self) -> None:
        self.enter_as(self.dm_padova)
        self.visit("/work/")
        toggle = self.page.locator("[data-menu-toggle]")
        cases = self.page.locator("#menu a", has_text="Cases")
        self.assertEqual(toggle.get_attribute("aria-expanded"), "false")
        self.assertEqual(toggle.get_attribute("aria-controls"), "menu")
        self.assertFalse(cases.is_visible())

        toggle.click()
        self.assertEqual(toggle.get_attribute("aria-expanded"), "true")
        self.assertTrue(cases.is_visible())
        toggle.click()
        self.assertFalse(cases.is_visible())

        self.visit("/work/")  # from the top of the page, with the keyboard only
        for _press in range(6):  # skip link, brand, then the button
            self.page.keyboard.press("Tab")
            if self.page.evaluate("document.activeElement.hasAttribute('data-menu-toggle')"):
                break
        self.assertTrue(self.page.evaluate("document.activeElement.hasAttribute('data-menu-toggle')"))
        self.page.keyboard.press("Enter")
        self.assertTrue(cases.is_visible())
        self.page.keyboard.press("Tab")
        self.assertEqual(self.page.evaluate("document.activeElement.textContent.trim()"), "My work")
        self.page.keyboard.press("Escape")
        self.assertFalse(cases.is_visible())
        self.assertTrue(self.page.evaluate("document.activeElement.hasAttribute('data-menu-toggle')"))
        self.page.keyboard.press("Space")
        self.assertTrue(cases.is_visible())
        with self.page.expect_navigation():
            cases.click()
        self.assertTrue(self.page.url.endswith("/cases/"))
        self.assertEqual(self.errors, [])

    def test_without_scripts_the_menu_is_open_and_the_button_is_not_shown(self) -> None:
        context = self.browser.new_context(viewport=PHONE, java_script_enabled=False)
        page = context.new_page()
        page.goto(self.live_server_url + "/")
        self.assertFalse(page.locator("[data-menu-toggle]").is_visible())
        self.assertTrue(page.locator("#menu a", has_text="Statistics").is_visible())
        context.close()


class FiguresReadOnAPhone(PhoneStory):
    def test_no_label_of_a_statistics_or_report_figure_is_under_9_pixels_high(self) -> None:
        seen = {"/statistics/": self.visit("/statistics/")}
        self.enter_as(self.european)
        seen["/reports/ACC/"] = self.visit("/reports/ACC/")
        for path, page in seen.items():
            with self.subTest(path):
                self.assertGreater(page["figures"], 0)
                self.assertGreater(page["texts"], 10)
                self.assertGreaterEqual(page["smallest"][0][0], 9, page["smallest"])
                self.assertLessEqual(page["width"], PHONE["width"])
        self.assertEqual(self.errors, [])

    def test_on_a_computer_the_figure_is_drawn_wide_at_its_natural_size(self) -> None:
        self.page.set_viewport_size({"width": 1280, "height": 800})
        page = self.visit("/statistics/")
        self.assertGreaterEqual(page["smallest"][0][0], 8, page["smallest"])
        widths = self.page.eval_on_selector_all(
            'svg[role="img"]', "figures => figures.map(f => f.getBoundingClientRect().width)"
        )
        self.assertTrue(widths and all(w > 600 for w in widths), widths)


class TheSignedInHeaderOnAComputer(PhoneStory):
    def test_its_links_keep_one_line_at_1280_pixels(self) -> None:
        self.page.set_viewport_size({"width": 1280, "height": 800})
        self.enter_as(self.researcher)  # the longest menu: it asks for data too
        self.visit("/work/")
        tops = self.page.eval_on_selector_all(
            'header nav[aria-label="Main"] a', "links => links.map(a => a.getBoundingClientRect().top)"
        )
        self.assertEqual(len(set(tops)), 1, tops)
        self.assertFalse(self.page.locator("[data-menu-toggle]").is_visible())
        self.assertLessEqual(self.page.evaluate("document.querySelector('header').getBoundingClientRect().height"), 100)
