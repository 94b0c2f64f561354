"""ISO 3166-1 countries: the one test of whether a code names a country that exists."""

from __future__ import annotations

from django_countries.data import COUNTRIES


def is_country(code: str) -> bool:
    """An ISO 3166-1 alpha-2 code of a country that exists, in any case: "IT", "it"; never "UK" or "EL"."""
    return code.strip().upper() in COUNTRIES
