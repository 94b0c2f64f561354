"""ISO 3166-1 countries: the one test of whether a code names a country that exists, and its name in
the reader's language."""

from __future__ import annotations

import unicodedata

from django.utils import translation
from django_countries import countries
from django_countries.data import COUNTRIES


def is_country(code: str) -> bool:
    """An ISO 3166-1 alpha-2 code of a country that exists, in any case: "IT", "it"; never "UK" or "EL"."""
    return code.strip().upper() in COUNTRIES


#: The registry's languages spoken in each country where they are an official language.
_LANGUAGES_OF = {
    "IT": {"it"},
    "SM": {"it"},
    "FR": {"fr"},
    "MC": {"fr"},
    "BE": {"fr", "de"},
    "LU": {"fr", "de"},
    "CH": {"de", "fr", "it"},
    "DE": {"de"},
    "AT": {"de"},
    "LI": {"de"},
    "PL": {"pl"},
    "GB": {"en"},
    "IE": {"en"},
    "MT": {"en"},
}


def languages_of(code: str) -> set[str]:
    """The registry's languages that are official in the country: {"it"} for "IT", none for "ES"."""
    return _LANGUAGES_OF.get(code.strip().upper(), set())


def country_name(code: str, fallback: str = "", language: str | None = None) -> str:
    """The country's name in the active language (or in `language`), from CLDR as django-countries
    translates it: "Italia" in Italian, "Włochy" in Polish. `fallback` where the code names none."""
    if language:
        with translation.override(language):
            return country_name(code, fallback)
    return str(countries.name(code.strip().upper())) or fallback


def name_key(name: str) -> str:
    """A key sorting names as a reader of most European languages expects: accents and case aside
    ("Österreich" with the O's, "Włochy" with the W's)."""
    folded = unicodedata.normalize("NFKD", name.replace("ł", "l").replace("Ł", "L"))
    return "".join(c for c in folded if not unicodedata.combining(c)).casefold()
