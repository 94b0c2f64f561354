"""Dates, numbers, countries, centres and counts as each of the registry's five languages writes them."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.test import SimpleTestCase, TestCase
from django.utils import formats, translation

from partner.accounts.countries import country_name, name_key
from partner.accounts.models import Centre, Country
from partner.cases.models import Status, TumourCase
from partner.consult.summary import _display
from partner.testing import RegistryTestCase
from partner.website.models import Guideline, NationalGroup
from partner.website.statistics import breakdowns

DAY = dt.date(2026, 12, 7)  # 7 December: written 12/07 in the United States, 07/12 in Europe
MOMENT = dt.datetime(2026, 12, 7, 14, 5)

SHORT_DATES = {"en": "07/12/2026", "it": "07/12/2026", "fr": "07/12/2026", "de": "07.12.2026", "pl": "07.12.2026"}


class DatesAreWrittenTheWayEachLanguageWritesThem(SimpleTestCase):
    def test_it_writes_short_dates_day_first_in_every_language(self) -> None:
        for language, expected in SHORT_DATES.items():
            with self.subTest(language=language), translation.override(language):
                self.assertEqual(formats.date_format(DAY, "SHORT_DATE_FORMAT"), expected)

    def test_it_writes_english_long_dates_and_times_as_in_europe(self) -> None:
        with translation.override("en"):
            self.assertEqual(formats.date_format(DAY), "7 December 2026")
            self.assertEqual(formats.time_format(MOMENT.time()), "14:05")
            self.assertEqual(formats.date_format(MOMENT, "DATETIME_FORMAT"), "7 December 2026, 14:05")
            self.assertEqual(formats.date_format(MOMENT, "SHORT_DATETIME_FORMAT"), "07/12/2026 14:05")

    def test_it_writes_decimals_with_each_language_s_separator(self) -> None:
        for language, expected in {"en": "1.5", "it": "1,5", "fr": "1,5", "de": "1,5", "pl": "1,5"}.items():
            with self.subTest(language=language), translation.override(language):
                self.assertEqual(formats.localize(1.5), expected)


class EnglishDatesAreReadDayFirst(SimpleTestCase):
    def test_it_reads_07_12_2026_as_the_seventh_of_december(self) -> None:
        with translation.override("en"):
            self.assertEqual(forms.DateField().clean("07/12/2026"), DAY)
            self.assertEqual(forms.DateField().clean("2026-12-07"), DAY)

    def test_it_shows_a_date_box_s_value_in_iso_as_the_browser_needs(self) -> None:
        with translation.override("en"):
            self.assertIn('value="2026-12-07"', forms.DateInput(attrs={"type": "date"}).render("d", DAY))


class CountriesAreNamedInThePageLanguage(TestCase):
    def test_it_names_a_country_in_the_active_language(self) -> None:
        italy = Country(code="IT", name="Italy")
        names = {"en": "Italy", "it": "Italia", "fr": "Italie", "de": "Italien", "pl": "Włochy"}
        for language, expected in names.items():
            with self.subTest(language=language), translation.override(language):
                self.assertEqual(str(italy), expected)
                self.assertEqual(italy.local_name, expected)

    def test_it_names_the_united_kingdom_in_polish(self) -> None:
        self.assertEqual(country_name("GB", language="pl"), "Wielka Brytania")
        self.assertEqual(country_name("gb", language="de"), "Vereinigtes Königreich")

    def test_it_keeps_the_stored_name_of_a_code_it_does_not_know(self) -> None:
        self.assertEqual(str(Country(code="XK", name="Kosovo")), "Kosovo")

    def test_it_sorts_names_with_their_accents_among_the_plain_letters(self) -> None:
        names = ["Polen", "Österreich", "Italien", "Deutschland"]
        self.assertEqual(sorted(names, key=name_key), ["Deutschland", "Italien", "Österreich", "Polen"])


class CentresShowTheirLocalNameInTheirCountrysLanguage(TestCase):
    def test_it_shows_the_local_name_only_in_a_language_of_the_centre_s_country(self) -> None:
        italy = Country.objects.create(code="IT", name="Italy")
        padova = Centre.objects.create(
            code="IT-PD",
            name="Paediatric Haematology-Oncology",
            local_name="Oncoematologia Pediatrica",
            city="Padova",
            country=italy,
        )
        with translation.override("it"):
            self.assertEqual(str(padova), "Oncoematologia Pediatrica, Padova")
        for language in ("en", "fr", "de", "pl"):
            with self.subTest(language=language), translation.override(language):
                self.assertEqual(str(padova), "Paediatric Haematology-Oncology, Padova")

    def test_it_shows_the_english_name_of_a_centre_without_a_local_one(self) -> None:
        paris = Centre.objects.create(
            code="FR-PA", name="Paediatric Oncology", city="Paris", country=Country.objects.create(code="FR")
        )
        with translation.override("fr"):
            self.assertEqual(str(paris), "Paediatric Oncology, Paris")


class PagesNameCountriesInTheirLanguage(RegistryTestCase):
    def submitted(self, n: int) -> None:
        for i in range(n):
            case = self.register(self.padova if i % 2 else self.paris, given=f"N{i}", morphology="8370/3")
            TumourCase.objects.filter(pk=case.pk).update(status=Status.SUBMITTED)

    def page(self, path: str, language: str) -> str:
        self.client.cookies.load({"django_language": language})
        return self.client.get(path).content.decode()

    def test_the_home_page_names_countries_in_italian(self) -> None:
        self.submitted(12)
        page = self.page("/", "it")
        self.assertIn("<td>Italia</td>", page)
        self.assertIn("<td>Francia</td>", page)
        self.assertNotIn("<td>Italy</td>", page)

    def test_public_statistics_name_and_sort_countries_in_the_page_s_language(self) -> None:
        self.submitted(12)
        with translation.override("pl"):
            polish = [label for label, _n in {t.key: t for t in breakdowns("pl")}["country"].rows]
        self.assertEqual(polish, ["Francja", "Włochy"])
        page = self.page("/statistics/", "de")
        self.assertIn("Italien", page)
        self.assertNotIn("Italy", page)

    def test_the_national_groups_page_names_the_country_in_french(self) -> None:
        NationalGroup.objects.create(country=self.italy, name="TREP", language="it")
        self.assertIn("Italie", self.page("/groups/", "fr"))

    def test_the_data_request_form_offers_countries_by_their_name_in_the_page_s_language(self) -> None:
        self.sign_in(self.client, self.researcher)
        page = self.page("/requests/new/", "it")
        self.assertIn("Italia", page)
        self.assertIn("Francia", page)
        self.assertNotIn("Italy", page)


class ContentInAnotherLanguageSaysSo(RegistryTestCase):
    def test_an_english_guideline_on_a_french_page_is_marked_english(self) -> None:
        Guideline.objects.create(
            entity="ACC", title="ACC in children", version="1.0", status="published", date=DAY, updated_by=self.european
        )
        self.client.cookies.load({"django_language": "fr"})
        page = self.client.get("/guidelines/").content.decode()
        self.assertIn('<article class="card" lang="en">', page)
        self.assertIn('class="small muted content-language" lang="fr"', page)
        self.client.cookies.load({"django_language": "en"})
        self.assertNotIn("content-language", self.client.get("/guidelines/").content.decode())


class CountsTakeTheirPlural(SimpleTestCase):
    def test_one_day_is_a_day(self) -> None:
        with translation.override("en"):
            self.assertEqual(_display(None, {"days": -1}, "en"), "1 day before diagnosis")
            self.assertEqual(_display(None, {"days": -3}, "en"), "3 days before diagnosis")


class NationalGroupsAreSortedByTheirCountrysNameInThePageLanguage(RegistryTestCase):
    def test_the_groups_follow_the_alphabet_of_the_page_s_language(self) -> None:
        austria = Country.objects.create(code="AT", name="Austria")
        germany = Country.objects.create(code="DE", name="Germany")
        for country, name in ((self.italy, "TREP"), (germany, "STEP"), (austria, "ÖGPHO")):
            NationalGroup.objects.create(country=country, name=name)
        self.client.cookies.load({"django_language": "de"})
        page = self.client.get("/groups/").content.decode()
        # Deutschland, Italien, Österreich (in English: Austria, Germany, Italy)
        self.assertLess(page.index("STEP"), page.index("TREP"))
        self.assertLess(page.index("TREP"), page.index("ÖGPHO"))


class TheDemoCentresHaveLocalNames(TestCase):
    def test_padova_is_named_in_italian_on_italian_pages_even_in_a_demo_built_before_local_names(self) -> None:
        from partner.cases.demo_reference import build_reference

        italy = Country.objects.create(code="IT", name="Italy")
        Centre.objects.create(code="IT-PD", name="Paediatric Haematology-Oncology", city="Padova", country=italy)
        centres = build_reference(password="x" * 20)
        with translation.override("it"):
            self.assertEqual(str(centres["IT-PD"]), "Oncoematologia Pediatrica, Padova")
            self.assertEqual(str(Centre.objects.get(code="IT-PD")), "Oncoematologia Pediatrica, Padova")
        with translation.override("en"):
            self.assertEqual(str(centres["GB-LO"]), "Paediatric Oncology, London")
