"""A researcher's request in a real browser, by keyboard and labels: ask, wait for the approval, download."""

import os
import re
import zipfile

import pytest

from partner.datarequests import services
from partner.datarequests.models import DataRequest, RequestStatus
from partner.testing import CHROMIUM, BrowserTestCase

pytestmark = pytest.mark.browser


@pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
    reason="chromium is not installed (make test installs it)",
)
class ResearcherStory(BrowserTestCase):
    def test_a_researcher_asks_for_data_by_keyboard_and_downloads_the_extract_once_approved(self):
        page = self.page
        self.log_in(page, self.researcher)
        with page.expect_navigation():
            page.get_by_role("link", name="Data requests", exact=True).click()
        with page.expect_navigation():
            page.get_by_role("link", name="New data request").click()

        page.get_by_label("Title").fill("Stage and relapse")
        page.get_by_label("Purpose").fill("Relapse by stage at diagnosis.")
        diagnosis = page.locator("summary", has_text="diagnosis").first
        diagnosis.focus()
        page.keyboard.press("Enter")  # opens the form's variables
        page.get_by_label("diagnosis.diagnosis_date").focus()
        page.keyboard.press("Space")
        self.assertTrue(page.get_by_label("diagnosis.diagnosis_date").is_checked())
        page.get_by_label(self.dictionary.entity_by_code["ACC"].names.en, exact=True).check()
        page.get_by_label("Diagnosed from").fill("2024-01-01")
        page.get_by_label("Diagnosed until").fill("2020-01-01")  # typed wrongly: before the start
        with page.expect_navigation():
            page.get_by_role("button", name="Submit the request").click()
        self.assertIn("before its start", page.locator('[role="alert"]').first.inner_text())
        self.assertTrue(page.get_by_label("diagnosis.diagnosis_date").is_checked())  # nothing chosen is lost
        self.assertFalse(DataRequest.objects.exists())
        page.get_by_label("Diagnosed until").fill("2025-01-01")
        with page.expect_navigation():
            page.get_by_role("button", name="Submit the request").click()

        item = DataRequest.objects.get()
        self.assertEqual((item.variables, item.cohort["entities"]), (["diagnosis.diagnosis_date"], ["ACC"]))
        self.assertIn("submitted", page.locator("h1").inner_text())
        services.decide(item, user=self.european, decision=RequestStatus.APPROVED, note="Go ahead.")
        page.reload()
        page.get_by_role("link", name="Download the extract (zip)").click()  # built by the worker
        with page.expect_download() as download:
            page.get_by_role("link", name=re.compile(r"^Download data-request-")).click()
        with zipfile.ZipFile(download.value.path()) as archive:
            self.assertIn("cases.csv", archive.namelist())
        self.assertEqual(self.errors, [])
        item.refresh_from_db()
        self.assertEqual(item.download_count, 1)
