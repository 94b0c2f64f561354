"""A data manager's morning in a real browser: log in, land on My work, see the new query, open it."""

from __future__ import annotations

import os

import pytest

from partner.quality import queries
from partner.testing import CHROMIUM, BrowserTestCase

pytestmark = pytest.mark.browser


@pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
    reason="chromium is not installed (make test installs it)",
)
class DataManagerMorning(BrowserTestCase):
    def test_a_data_manager_logs_in_sees_a_new_query_on_my_work_and_opens_it(self) -> None:
        case = self.register(self.padova)
        query = queries.raise_query(case, "diagnosis.morphology", "Is the morphology 8370/3?", None, self.nc_italy)
        page = self.page
        self.log_in(page, self.dm_padova)
        self.assertEqual(page.url, self.live_server_url + "/work/")
        self.assertEqual(page.locator("h1").inner_text(), "My work")
        waiting = page.locator("#work-queries")
        self.assertEqual(waiting.get_attribute("data-count"), "1")
        link = waiting.get_by_role("link", name=f"Case {case.pk} · Diagnosis: Morphology (ICD-O-3)")
        self.assertIn("new", waiting.inner_text())
        with page.expect_navigation():
            link.click()
        self.assertEqual(page.url, f"{self.live_server_url}/quality/queries/{query.pk}/")
        self.assertIn("Is the morphology 8370/3?", page.locator("main").inner_text())
        self.assertEqual(self.errors, [])

    def test_my_work_fits_a_phone_screen(self) -> None:
        self.register(self.padova)
        page = self.page
        page.set_viewport_size({"width": 390, "height": 800})
        self.log_in(page, self.dm_padova)
        width = page.evaluate("document.documentElement.scrollWidth")
        self.assertLessEqual(width, 390)
        self.assertEqual(self.errors, [])
