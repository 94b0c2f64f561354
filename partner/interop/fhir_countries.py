"""A country as FHIR senders write `Address.country`: an ISO 3166 code, or a name (the element is text).

Names are read in the registry's languages as django-countries gives them (CLDR's translations, the
common and the former names too), accents and case aside. A sender often writes the short form of an
official name ("United States" for the United States of America): a name that is the beginning of
country names is taken as the country whose name goes on least beyond it ("United States of
America", not "United States Minor Outlying Islands").
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.utils import translation
from django_countries import countries
from django_countries.data import COUNTRIES

from partner.accounts.countries import is_country, name_key


def country_code(text: str) -> str | None:
    """The ISO 3166-1 alpha-2 code of the country `text` names (a code or a name); None if it names none."""
    given = text.strip()
    if len(given) in (2, 3) and given.isalpha():
        code = countries.alpha2(given.upper())
        if code and is_country(code):
            return code
    key = name_key(given)
    if not key:
        return None
    names = _names()
    if key in names:
        return names[key]
    longer = [(len(name) - len(key), code) for name, code in names.items() if name.startswith(key + " ")]
    return min(longer)[1] if longer else None


@cache
def _names() -> dict[str, str]:
    """Every country's names in the registry's languages, by `name_key`."""
    found: dict[str, str] = {}
    for language, _label in settings.LANGUAGES:
        with translation.override(language):
            for code, name in countries:
                found.setdefault(name_key(str(name)), code)
            for code, name in COUNTRIES.items():
                found.setdefault(name_key(str(name)), code)
            for code, name in countries.COMMON_NAMES.items():
                found.setdefault(name_key(str(name)), code)
            for code, old in countries.OLD_NAMES.items():
                for name in old:
                    found.setdefault(name_key(str(name)), code)
    return found
