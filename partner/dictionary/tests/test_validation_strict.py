"""The validator stores what was meant or refuses it: nothing cut, rounded, guessed or read as another value."""

import datetime as dt
from decimal import Decimal
from functools import cache

import pytest

from partner.dictionary.definitions import read_definitions
from partner.dictionary.schema import FormDef
from partner.dictionary.validation import validate_record

L = {"en": "x", "it": "x", "fr": "x", "de": "x", "pl": "x"}


def _choices(*codes):
    return [{"code": c, "labels": L} for c in codes]


FORM = FormDef.model_validate(
    {
        "code": "strict",
        "labels": L,
        "order": 1,
        "fields": [
            {"code": "seen_on", "labels": L, "type": "date"},
            {"code": "size_cm", "labels": L, "type": "decimal", "unit": "cm", "min": 0, "max": 50, "decimals": 1},
            {"code": "weight_g", "labels": L, "type": "decimal", "unit": "g", "min": 1, "max": 5000, "decimals": 1},
            {"code": "activity_mbq", "labels": L, "type": "decimal", "unit": "MBq", "decimals": 0},
            {"code": "ratio", "labels": L, "type": "decimal"},
            {"code": "dose", "labels": L, "type": "decimal", "decimals": 2},
            {"code": "cells", "labels": L, "type": "integer", "min": 0},
            {"code": "rupture", "labels": L, "type": "boolean"},
            {"code": "vital", "labels": L, "type": "choice", "choices": _choices("alive", "dead", "unknown")},
            {"code": "stage", "labels": L, "type": "choice", "choices": _choices("Ia", "IA", "II")},
            {"code": "sites", "labels": L, "type": "multichoice", "choices": _choices("lung", "liver", "bone")},
            {"code": "note", "labels": L, "type": "text", "max_length": 20},
            {"code": "orpha", "labels": L, "type": "code", "code_system": "ORPHA"},
        ],
    }
)


@cache
def _form(code):
    return next(f for f in read_definitions().forms if f.code == code)


def _check(field, value, form=FORM):
    """(stored value, error) for one value of one field; the other of the two is None."""
    result = validate_record(form, {field: value}, partial=True, today=dt.date(2026, 1, 1))
    errors = {e.field: e.message for e in result.errors}
    assert set(errors) <= {field}, errors
    return result.values.get(field), errors.get(field)


def _refused(field, value, form=FORM):
    stored, error = _check(field, value, form)
    assert stored is None and error, f"{value!r} was stored as {stored!r}"
    return error


def _stored(field, value, form=FORM):
    stored, error = _check(field, value, form)
    assert error is None, error
    return stored


class TestDates:
    @pytest.mark.parametrize("value", ["2023-05-061", "2023-05-06x", "2023-05-06T10:30:00", "2023-05-06 10:30"])
    def test_a_date_with_more_after_it_is_refused_not_cut_at_ten_characters(self, value):
        assert "YYYY-MM-DD" in _refused("seen_on", value)

    @pytest.mark.parametrize("value", ["20230506", "2023-W18-6", "\uff12\uff10\uff12\uff13-05-06"])
    def test_a_date_in_another_iso_spelling_is_refused(self, value):
        assert "YYYY-MM-DD" in _refused("seen_on", value)

    def test_a_date_and_time_object_with_a_time_is_refused_not_cut_to_its_day(self):
        assert "time" in _refused("seen_on", dt.datetime(2023, 5, 6, 10, 30))

    def test_an_exact_date_is_kept(self):
        assert _stored("seen_on", "2023-05-06") == "2023-05-06"
        assert _stored("seen_on", " 2023-05-06 ") == "2023-05-06"
        assert _stored("seen_on", dt.date(2023, 5, 6)) == "2023-05-06"
        assert _stored("seen_on", dt.datetime(2023, 5, 6)) == "2023-05-06"


class TestDecimals:
    @pytest.mark.parametrize("value", ["4.96", "4,96", 4.96, Decimal("4.96"), "4.95"])
    def test_a_decimal_finer_than_the_field_keeps_is_refused_not_rounded(self, value):
        error = _refused("size_cm", value)
        assert "decimal" in error and "1" in error

    def test_a_breslow_thickness_is_not_rounded_across_the_t4_threshold(self):
        melanoma = _form("melanoma")
        assert _refused("mel_breslow_mm", "4,04", melanoma)
        assert _stored("mel_breslow_mm", "4.1", melanoma) == 4.1

    def test_a_field_that_keeps_no_decimals_refuses_any(self):
        assert "whole" in _refused("activity_mbq", "1200.5")
        assert _stored("activity_mbq", "1200") == 1200.0

    def test_a_number_with_more_digits_than_can_be_stored_is_refused(self):
        assert "digits" in _refused("ratio", "0.1234567890123456789")
        assert "digits" in _refused("ratio", "1e-400")
        assert _stored("ratio", "0.125") == 0.125

    def test_a_huge_number_is_refused_or_kept_exactly_never_an_exception(self):
        assert "maximum" in _refused("size_cm", "1e30")
        assert _stored("dose", "1e30") == 1e30
        assert "too large" in _refused("dose", "1e400")

    def test_an_exact_value_is_kept_as_it_is(self):
        assert _stored("size_cm", 5.0) == 5.0
        assert _stored("size_cm", 5) == 5.0
        assert _stored("size_cm", "4,9") == 4.9
        assert _stored("size_cm", "5.00") == 5.0
        assert _stored("size_cm", " .5 ") == 0.5
        assert _stored("dose", "1.25") == 1.25
        assert _stored("weight_g", "1500") == 1500.0


class TestGroupedThousands:
    @pytest.mark.parametrize("value", ["1,000", "12,000", "1.000", "120.000", "-1,000"])
    def test_an_integer_written_with_a_thousands_separator_is_refused(self, value):
        assert "thousand" in _refused("cells", value)

    @pytest.mark.parametrize("value", ["1,000", "1.500", "12,000"])
    def test_a_decimal_that_could_be_a_grouped_thousand_is_refused(self, value):
        assert "thousand" in _refused("weight_g", value)

    @pytest.mark.parametrize("value", ["1 000", "1_000", "1.000,5", "1,000.5", "\u0664", "\uff11\uff12", "0x10", "½"])
    def test_a_number_written_any_other_way_than_digits_is_refused(self, value):
        assert _refused("cells", value)

    def test_a_whole_number_is_kept(self):
        assert _stored("cells", "1000") == 1000
        assert _stored("cells", 1000) == 1000
        assert _stored("cells", 4.0) == 4
        assert _stored("cells", "+12") == 12
        assert "whole number" in _refused("cells", 3.7)
        assert "whole number" in _refused("cells", "3,7")


class TestCountries:
    @pytest.mark.parametrize("value", ["ZZ", "UK", "EL", "XX", "ITA", "I", "380"])
    def test_two_letters_that_name_no_country_are_refused(self, value):
        error = _refused("country_of_residence", value, _form("registration"))
        assert "ISO 3166" in error and repr(value) in error

    # A dotless i, the fi ligature, a long s: upper-cased, they are IT, FI and SE.
    @pytest.mark.parametrize("value", ["\u0131t", "\ufb01", "\u017fe"])
    def test_letters_that_only_become_a_code_when_upper_cased_are_refused(self, value):
        assert _refused("country_of_residence", value, _form("registration"))

    def test_a_country_code_is_kept_upper_case(self):
        registration = _form("registration")
        assert _stored("country_of_residence", "GB", registration) == "GB"
        assert _stored("country_of_residence", "it", registration) == "IT"
        assert _stored("country_of_residence", " pl ", registration) == "PL"


class TestBooleans:
    @pytest.mark.parametrize("value", ["y", "n", "Y", "N", "si", "ja", 1, 0, 1.0, 2, "2", "yes please"])
    def test_an_answer_that_is_not_plainly_yes_or_no_is_refused(self, value):
        assert "yes" in _refused("rupture", value)

    @pytest.mark.parametrize(
        ("value", "stored"),
        [(True, True), (False, False), ("yes", True), ("No", False), ("true", True), ("FALSE", False), ("1", True)],
    )
    def test_a_plain_yes_or_no_is_kept(self, value, stored):
        assert _stored("rupture", value) is stored


class TestChoices:
    def test_a_letter_that_only_lower_cases_to_a_code_is_refused(self):
        assert _refused("vital", "un\u212anown")  # the Kelvin sign, whose lower case is k

    def test_a_code_in_other_case_is_refused_when_two_codes_differ_by_case_only(self):
        error = _refused("stage", "ia")
        assert "Ia" in error and "IA" in error
        assert _stored("stage", "IA") == "IA"
        assert _stored("stage", "Ia") == "Ia"
        assert _stored("stage", "ii") == "II"

    def test_a_choice_in_another_case_is_kept_as_the_dictionarys_code(self):
        assert _stored("vital", " Alive ") == "alive"
        assert _stored("sites", "Lung|BONE") == ["lung", "bone"]
        assert _refused("sites", ["lung", True])


class TestText:
    @pytest.mark.parametrize("value", [1.10, 12, True, ["a"], {"a": 1}])
    def test_a_value_that_is_not_text_is_refused_not_written_as_text(self, value):
        assert "text" in _refused("note", value)

    @pytest.mark.parametrize("value", ["trial\x00 1", "trial\x1b[31m", "trial \ud800"])
    def test_text_holding_a_control_character_is_refused(self, value):
        assert _refused("note", value)

    def test_text_is_kept_but_for_the_spaces_around_it(self):
        assert _stored("note", " NCT01234567 ") == "NCT01234567"
        assert _stored("note", "two\nlines") == "two\nlines"


class TestNotANumber:
    @pytest.mark.parametrize("field", ["size_cm", "cells", "note", "seen_on", "rupture", "vital", "orpha"])
    def test_a_nan_is_refused_not_taken_for_no_answer(self, field):
        assert _refused(field, float("nan"))


class TestCodes:
    def test_a_code_in_digits_other_than_ascii_is_refused(self):
        assert "ORPHA" in _refused("orpha", "\u0661\u0665\u0660\u0661")
        assert _stored("orpha", "1501") == "ORPHA:1501"
        assert _stored("orpha", "ORPHA:1501") == "ORPHA:1501"
