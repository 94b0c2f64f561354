"""A FHIR date is read as the registry's day only when it is one: nothing is cut to look like a date."""

import pytest

from partner.interop.fhir_bundle import day_of


@pytest.mark.parametrize(
    ("value", "day"),
    [
        ("2023-05-06", "2023-05-06"),
        ("2023-05-06T10:30:00+01:00", "2023-05-06"),
        ("2023-05-06T10:30:00.123Z", "2023-05-06"),
        ("2023-05-061", "2023-05-061"),
        ("2023-05-06 trailing", "2023-05-06 trailing"),
        ("2023-05", "2023-05"),
    ],
)
def test_only_a_date_or_a_date_time_gives_a_day(value, day):
    assert day_of(value) == day
