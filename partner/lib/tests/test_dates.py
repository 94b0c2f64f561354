import datetime as dt

import pytest

from partner.lib.dates import PartialDate, format_partial, parse_partial, precision_of


def test_it_reads_a_date_to_the_day_the_month_or_the_year():
    assert PartialDate.parse("2019-05-14") == PartialDate(2019, 5, 14)
    assert PartialDate.parse("2019-05").precision == "month"
    assert PartialDate.parse("2019").precision == "year"
    assert PartialDate.parse(dt.date(2019, 5, 14)).iso == "2019-05-14"


@pytest.mark.parametrize(
    "text", ["2019-02-30", "2019-13", "19-05", "2019-5", "2019/05", "May 2019", "2019-05-14T10:00"]
)
def test_it_refuses_what_is_not_an_existing_iso_date(text):
    with pytest.raises(ValueError):
        PartialDate.parse(text)


def test_a_day_without_a_month_is_no_date():
    with pytest.raises(ValueError):
        PartialDate(2019, None, 14)


def test_a_partial_date_spans_its_month_or_year():
    may = PartialDate.parse("2019-05")
    assert (may.earliest, may.latest) == (dt.date(2019, 5, 1), dt.date(2019, 5, 31))
    leap = PartialDate.parse("2020-02")
    assert leap.latest == dt.date(2020, 2, 29)
    year = PartialDate.parse("2019")
    assert (year.earliest, year.latest) == (dt.date(2019, 1, 1), dt.date(2019, 12, 31))


def test_it_imputes_the_middle_of_the_period_inside_known_bounds():
    assert PartialDate.parse("2019-05").midpoint() == dt.date(2019, 5, 15)
    assert PartialDate.parse("2019").midpoint() == dt.date(2019, 7, 1)
    assert PartialDate.parse("2019-05-03").midpoint(lower=dt.date(2019, 5, 10)) == dt.date(2019, 5, 3)
    # born on 20 May 2019: an onset in May 2019 cannot be before
    assert PartialDate.parse("2019-05").midpoint(lower=dt.date(2019, 5, 20)) == dt.date(2019, 5, 20)
    assert PartialDate.parse("2019").midpoint(upper=dt.date(2019, 3, 2)) == dt.date(2019, 3, 2)
    # bounds outside the period say nothing about it
    assert PartialDate.parse("2019").midpoint(lower=dt.date(2010, 1, 1), upper=dt.date(2030, 1, 1)) == dt.date(
        2019, 7, 1
    )


def test_it_compares_by_interval():
    may = PartialDate.parse("2019-05")
    assert not may.certainly_before(dt.date(2019, 5, 20))
    assert may.certainly_before(dt.date(2019, 6, 1))
    assert not PartialDate.parse("2019").certainly_before(PartialDate.parse("2019-05-14"))
    assert PartialDate.parse("2018").certainly_before(PartialDate.parse("2019-01"))
    assert PartialDate.parse("2019-06").certainly_after(dt.date(2019, 5, 31))
    assert not PartialDate.parse("2019").certainly_after(dt.date(2019, 5, 31))


@pytest.mark.parametrize(
    "lang, value, shown",
    [
        ("en", "2019-05", "May 2019"),
        ("it", "2019-05", "maggio 2019"),
        ("fr", "2019-08", "août 2019"),
        ("de", "2019-03", "März 2019"),
        ("pl", "2019-05", "maj 2019"),
        ("pl", "2019", "2019"),
        ("en-gb", "2019-12", "December 2019"),
    ],
)
def test_it_names_a_month_and_year_in_the_readers_language(lang, value, shown):
    assert format_partial(value, lang) == shown


def test_a_full_date_or_no_date_is_left_to_the_caller():
    assert format_partial("2019-05-14", "en") is None
    assert format_partial("", "en") is None
    assert format_partial("not a date", "en") is None
    assert parse_partial(None) is None
    assert precision_of("2019") == "year"
