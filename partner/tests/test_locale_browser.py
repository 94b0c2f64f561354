"""The registry read in English, Italian, French, German and Polish, in chromium: dates written the way
each language writes them (7 December 2026, never 12/07/2026), countries named in the page's language."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from partner.accounts.countries import country_name
from partner.accounts.models import Country, Role
from partner.cases.models import Status, TumourCase
from partner.consult import services as consult
from partner.consult.models import Consultation, PanelMember
from partner.datarequests import services as datarequests
from partner.datarequests.models import DataRequest
from partner.linkage.models import CandidatePair
from partner.testing import BrowserTestCase

LANGUAGES = ("en", "it", "fr", "de", "pl")
#: 7 December 2026 as each language writes a short date; the United States' 12/07/2026 nowhere.
SEVENTH_OF_DECEMBER = {
    "en": "07/12/2026",
    "it": "07/12/2026",
    "fr": "07/12/2026",
    "de": "07.12.2026",
    "pl": "07.12.2026",
}
US_ORDER = "12/07/2026"
SEVENTH = timezone.make_aware(dt.datetime(2026, 12, 7, 11, 5))
ITALY = {"en": "Italy", "it": "Italia", "fr": "Italie", "de": "Italien", "pl": "Włochy"}
GERMANY = {"en": "Germany", "it": "Germania", "fr": "Allemagne", "de": "Deutschland", "pl": "Niemcy"}
ENGLISH_NAMES = {"IT": "Italy", "FR": "France", "DE": "Germany", "GB": "United Kingdom"}


class LocaleStory(BrowserTestCase):
    def read_in(self, language: str) -> None:
        self.page.context.add_cookies([{"name": "django_language", "value": language, "url": self.live_server_url}])

    def visit(self, path: str, language: str) -> Any:
        self.read_in(language)
        self.page.goto(self.live_server_url + path)
        self.assertEqual(self.page.locator("html").get_attribute("lang"), language)
        return self.page.locator("main")

    def assert_no_english_country(self, text: str, language: str) -> None:
        """No country in English where the language names it otherwise (France is France in French)."""
        for code, name in ENGLISH_NAMES.items():
            if country_name(code, language=language) != name:
                self.assertNotIn(name, text, f"{name} on the {language} page")

    def log_in_with_code(self, user: Any) -> None:
        device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
        self.log_in(self.page, user)
        self.page.get_by_label("Six-digit code").fill(f"{totp(device.bin_key, step=device.step, t0=device.t0):06d}")
        with self.page.expect_navigation():
            self.page.get_by_role("button", name="Confirm").click()


@pytest.mark.browser
class TheCoordinatorsListsWriteDatesAsTheLanguageDoes(LocaleStory):
    def setUp(self) -> None:
        super().setUp()
        self.germany = Country.objects.create(code="DE", name="Germany")
        clinician = self._user("clinician.padova", Role.CLINICIAN, centre=self.padova)
        experts = [self.expert, self._user("expert.fr", Role.EXPERT), self._user("expert.de", Role.EXPERT)]
        for expert, country in zip(experts, (self.italy, self.france, self.germany), strict=True):
            PanelMember.objects.create(user=expert, panel="endocrine", country=country)
        case = self.register(self.padova, morphology="8370/3", topography="C74.0")
        self.consultation = consult.submit(case, clinician, question="Adjuvant mitotane after resection?")
        consult.assign(self.consultation, self.european, experts)
        Consultation.objects.filter(pk=self.consultation.pk).update(submitted_at=SEVENTH)
        twin = self.register(self.paris, "Giulia", "Rosi")
        pair = CandidatePair.objects.create(left=case.patient, right=twin.patient, similarity=0.93, schema_version="1")
        CandidatePair.objects.filter(pk=pair.pk).update(found=SEVENTH)
        request = datarequests.submit(
            user=self.researcher,
            title="ACC outcomes",
            purpose="Survival by stage.",
            variables=["registration.sex"],
            cohort={},
        )
        DataRequest.objects.filter(pk=request.pk).update(created=SEVENTH)
        self.log_in_with_code(self.european)

    def test_the_consultations_pairs_and_data_requests_are_dated_07_12_in_each_language(self) -> None:
        for path in ("/consult/", "/linkage/", "/requests/"):
            for language in LANGUAGES:
                with self.subTest(path=path, language=language):
                    table = self.visit(path, language).locator("table").first.inner_text()
                    self.assertIn(SEVENTH_OF_DECEMBER[language], table)
                    self.assertNotIn(US_ORDER, table)
                    if path == "/linkage/":  # the similarity with the language's decimal mark
                        self.assertIn("0.930" if language == "en" else "0,930", table)
        self.assertEqual(self.errors, [])

    def test_the_assigned_experts_countries_are_named_in_the_page_s_language(self) -> None:
        for language in LANGUAGES:
            with self.subTest(language=language):
                panel = self.visit(f"/consult/{self.consultation.pk}/", language).locator("#panel + table")
                text = panel.inner_text()
                self.assertIn(ITALY[language], text)
                self.assertIn(GERMANY[language], text)
                self.assert_no_english_country(text, language)
                submitted = self.page.locator("main dl").first.inner_text()
                self.assertIn(SEVENTH_OF_DECEMBER[language], submitted)
        self.assertEqual(self.errors, [])


@pytest.mark.browser
class ThePublicPagesNameCountriesInThePageLanguage(LocaleStory):
    def setUp(self) -> None:
        super().setUp()
        for i in range(12):
            case = self.register(self.padova if i % 2 else self.paris, given=f"N{i}", morphology="8370/3")
            TumourCase.objects.filter(pk=case.pk).update(status=Status.SUBMITTED)

    def test_the_home_page_and_the_statistics_name_countries_in_each_language(self) -> None:
        for path in ("/", "/statistics/"):
            for language in LANGUAGES:
                with self.subTest(path=path, language=language):
                    text = self.visit(path, language).inner_text()
                    self.assertIn(ITALY[language], text)
                    self.assert_no_english_country(text, language)
        self.assertEqual(self.errors, [])


@pytest.mark.browser
class TheDataRequestFormNamesCountriesInThePageLanguage(LocaleStory):
    def test_the_countries_to_choose_are_named_in_each_language(self) -> None:
        self.log_in(self.page, self.researcher)
        for language in LANGUAGES:
            with self.subTest(language=language):
                form = self.visit("/requests/new/", language).locator("form").first
                self.assertIn(ITALY[language], form.inner_text())
                self.assert_no_english_country(form.inner_text(), language)
        self.assertEqual(self.errors, [])
