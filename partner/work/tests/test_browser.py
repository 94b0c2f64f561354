"""A data manager's morning in a real browser: log in, land on My work, see the new query, open it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from partner.quality import queries
from partner.testing import CHROMIUM, BrowserTestCase

pytestmark = pytest.mark.browser

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"


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

    @pytest.mark.skipif(
        not AXE.exists() and not os.environ.get("CI"), reason="axe-core is not installed (make test installs it)"
    )
    def test_my_work_fits_a_phone_screen_and_passes_the_accessibility_check(self) -> None:
        self.register(self.padova)
        page = self.page
        page.add_init_script(path=AXE)
        page.set_viewport_size({"width": 390, "height": 800})
        self.log_in(page, self.dm_padova)
        self.assertEqual(page.url, self.live_server_url + "/work/")
        self.assertLessEqual(page.evaluate("document.documentElement.scrollWidth"), 390)
        results: dict[str, Any] = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        serious = [
            f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes'][:3]]}"
            for v in results["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        self.assertEqual(serious, [])
        self.assertEqual(self.errors, [])
