"""A day at a centre, in a real browser: register an adrenocortical carcinoma in Italian, end to end."""

import datetime as dt
import os
import re
from urllib.parse import unquote

import pytest
from django.conf import settings

from partner.cases.models import FormRecord, Status, TumourCase
from partner.lib.pseudonym import Identity, pseudonym
from partner.testing import CHROMIUM, BrowserTestCase

pytestmark = pytest.mark.browser


@pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
    reason="chromium is not installed (make test installs it)",
)
class RegistrationStory(BrowserTestCase):
    def test_padova_registers_an_acc_case_in_italian_and_paris_cannot_see_it(self):
        page = self.page
        self.log_in(page, self.dm_padova)
        with page.expect_navigation():
            page.select_option("#language", "it")
        self.assertEqual(page.locator("html").get_attribute("lang"), "it")

        sent = []
        page.on("request", lambda request: sent.append(request))
        page.goto(self.live_server_url + "/cases/new/")
        page.fill('[name="identity-given_names"]', "Chiara")
        page.fill('[name="identity-family_names"]', "Bellini")
        page.fill('[name="identity-date_of_birth"]', "2011-04-03")
        page.select_option('[name="identity-sex"]', "female")
        page.select_option('[name="identity-country_of_birth"]', label="Italia")  # picked by its Italian name
        page.fill('[name="diagnosis-diagnosis_date"]', "2010-05-06")  # typed wrongly: before the birth
        page.fill('[name="diagnosis-morphology"]', "8370/3")
        page.fill('[name="diagnosis-topography"]', "C74.0")
        page.press('[name="diagnosis-topography"]', "Tab")
        # The ACC module arrives as soon as the codes classify the case.
        page.wait_for_selector('[name="acc-acc_virilisation"]')
        self.assertIn(self.dictionary.entity_by_code["ACC"].names.it, page.locator("#module").inner_text())
        # The module was asked for in a POST's body, with the dates and codes but not the names.
        asked = [r for r in sent if "/cases/module/" in r.url]
        self.assertEqual([r.method for r in asked], ["POST"] * len(asked))
        self.assertTrue(asked)
        self.assertIn("2011-04-03", unquote(asked[-1].post_data))
        self.assertNotRegex(asked[-1].post_data, "Chiara|Bellini")
        page.select_option('[name="diagnosis-basis_of_diagnosis"]', "7")
        # A treatment line: its surgery fields show only for a surgery.
        treatment = page.locator('[data-rows="treatment"]')
        treatment.locator("[data-add-row]").click()
        row = treatment.locator(".rows > .row").first
        surgery = row.locator('[data-field="surgery_type"]')
        self.assertFalse(surgery.is_visible())
        row.locator('[data-field="line_type"]').select_option("surgery")
        self.assertTrue(surgery.is_visible())
        surgery.select_option("resection_primary")
        row.locator('[data-field="resection_margin"]').select_option("R0")
        # A treatment's start may be known to the month only: three boxes, day, month and year.
        for part, value in (("day", "20"), ("month", "5"), ("year", "2023")):
            row.locator(f'[name$="-treatment_start_date_{part}"]').fill(value)
        with page.expect_navigation():
            page.click("main form button.primary")

        error = page.locator('[role="alert"]').first
        self.assertIn("è precedente alla data di nascita", error.inner_text())
        self.assertEqual(TumourCase.objects.count(), 0)
        self.assertEqual(treatment.locator(".rows > .row").count(), 1)  # nothing typed is lost
        page.fill('[name="diagnosis-diagnosis_date"]', "2023-05-06")
        with page.expect_navigation():
            page.click("main form button.primary")

        case = TumourCase.objects.get()
        self.assertTrue(page.url.endswith(f"/cases/{case.pk}/"), page.url)
        self.assertEqual(case.entity.code, "ACC")
        expected = pseudonym(Identity("Chiara", "Bellini", dt.date(2011, 4, 3), "female", "IT"), settings.PSEUDONYM_KEY)
        self.assertEqual(case.patient.pseudonym, expected)
        # Neither the date of birth nor the diagnosis date nor the codes ever travelled in a URL.
        for url in (unquote(r.url) for r in sent):
            self.assertNotRegex(url, r"2011-04-03|2010-05-06|2023-05-06|8370|C74")
        line = FormRecord.objects.get(case=case, form__code="treatment")
        self.assertEqual(line.values["surgery_type"], "resection_primary")
        with page.expect_navigation():
            page.click('button[name="to"][value="submitted"]')
        case.refresh_from_db()
        self.assertEqual(case.status, Status.SUBMITTED, page.locator(".message").all_inner_texts())

        with page.expect_navigation():
            page.click(f'a[href="/cases/{case.pk}/history/"]')
        history = page.locator("main").inner_text()
        self.assertIn(self.dm_padova.username, history)
        self.assertRegex(history, re.compile("inviat", re.IGNORECASE))  # "submitted" in Italian
        self.assertEqual(self.errors, [])

        paris = self.browser.new_page()
        self.log_in(paris, self.dm_paris)
        response = paris.goto(f"{self.live_server_url}/cases/{case.pk}/")
        self.assertEqual(response.status, 404)
        self.assertNotIn("Bellini", paris.content())
        paris.close()

    def test_a_half_typed_date_is_refused_beside_its_field_not_sent_empty(self):
        page = self.page
        self.log_in(page, self.dm_padova)
        page.goto(self.live_server_url + "/cases/new/")
        page.fill('[name="identity-given_names"]', "Chiara")
        page.fill('[name="identity-family_names"]', "Bellini")
        page.fill('[name="identity-date_of_birth"]', "2011-04-03")
        page.select_option('[name="identity-sex"]', "female")
        page.select_option('[name="identity-country_of_birth"]', "IT")
        page.fill('[name="diagnosis-morphology"]', "8370/3")
        page.fill('[name="diagnosis-topography"]', "C74.0")
        # The date of diagnosis is a full date in one date input (a partial one has three boxes).
        diagnosed = page.locator('[name="diagnosis-diagnosis_date"]')
        diagnosed.focus()
        page.keyboard.type("05")  # the month only: the browser would send the date empty
        self.assertTrue(diagnosed.evaluate("input => input.validity.badInput"))
        page.click("main form button.primary")
        message = page.locator('[name="diagnosis-diagnosis_date"] + [data-incomplete]')
        message.wait_for()
        self.assertIn("not complete", message.inner_text())
        self.assertTrue(page.url.endswith("/cases/new/"), page.url)
        self.assertEqual(TumourCase.objects.count(), 0)

        diagnosed.fill("2023-05-06")
        with page.expect_navigation():
            page.click("main form button.primary")
        diagnosis = FormRecord.objects.get(form__code="diagnosis")
        self.assertEqual(diagnosis.values["diagnosis_date"], "2023-05-06")
        self.assertEqual(self.errors, [])
