import datetime as dt

import pytest

from partner.dictionary.schema import FormDef
from partner.dictionary.validation import validate_record

L = {"en": "x", "it": "x", "fr": "x", "de": "x", "pl": "x"}


def _choices(*codes):
    return [{"code": c, "labels": L} for c in codes]


FORM = FormDef.model_validate(
    {
        "code": "demo",
        "labels": L,
        "order": 1,
        "fields": [
            {"code": "diagnosis_date", "labels": L, "type": "date", "required": True},
            {"code": "weight_g", "labels": L, "type": "decimal", "unit": "g", "min": 1, "max": 5000, "decimals": 1},
            {"code": "weiss", "labels": L, "type": "integer", "min": 0, "max": 9},
            {"code": "vital", "labels": L, "type": "choice", "choices": _choices("alive", "dead"), "required": True},
            {
                "code": "death_date",
                "labels": L,
                "type": "date",
                "show_if": "vital == 'dead'",
                "required_if": "vital == 'dead'",
            },
            {
                "code": "secretion",
                "labels": L,
                "type": "multichoice",
                "choices": _choices("cortisol", "androgens", "none"),
            },
            {"code": "rupture", "labels": L, "type": "boolean"},
            {"code": "morphology", "labels": L, "type": "morphology"},
            {"code": "topography", "labels": L, "type": "topography"},
            {"code": "orpha", "labels": L, "type": "code", "code_system": "ORPHA"},
            {"code": "note", "labels": L, "type": "text", "max_length": 10},
        ],
    }
)


def _errors(raw, **kw):
    return {e.field: e.message for e in validate_record(FORM, raw, **kw).errors}


def test_it_types_every_kind_of_value():
    result = validate_record(
        FORM,
        {
            "diagnosis_date": "2020-03-01",
            "weight_g": "120,5",
            "weiss": "4",
            "vital": "Alive",
            "secretion": "cortisol|androgens",
            "rupture": "yes",
            "morphology": "83703",
            "topography": "c740",
            "orpha": "1501",
            "note": " short ",
        },
    )
    assert result.ok, result.errors
    assert result.values == {
        "diagnosis_date": "2020-03-01",
        "weight_g": 120.5,
        "weiss": 4,
        "vital": "alive",
        "secretion": ["cortisol", "androgens"],
        "rupture": True,
        "morphology": "8370/3",
        "topography": "C74.0",
        "orpha": "ORPHA:1501",
        "note": "short",
    }


def test_it_names_each_bad_field_with_the_reason():
    errors = _errors(
        {
            "diagnosis_date": "01/03/2020",
            "weiss": "4.5",
            "vital": "gone",
            "weight_g": "9000",
            "morphology": "8370",
            "orpha": "abc",
            "note": "far too long a note",
        }
    )
    assert "YYYY-MM-DD" in errors["diagnosis_date"]
    assert "whole number" in errors["weiss"]
    assert "alive, dead" in errors["vital"]
    assert "above the maximum 5000 g" in errors["weight_g"]
    assert "behaviour" in errors["morphology"]
    assert "ORPHA" in errors["orpha"]
    assert "at most 10 characters" in errors["note"]


def test_a_date_written_right_that_does_not_exist_is_called_so():
    assert "is not a date that exists" in _errors({"diagnosis_date": "2024-02-31"})["diagnosis_date"]
    assert "YYYY-MM-DD" in _errors({"diagnosis_date": "31/02/2024"})["diagnosis_date"]


def test_required_fields_are_reported_unless_the_record_is_a_draft():
    assert _errors({}) == {"diagnosis_date": "required", "vital": "required"}
    assert _errors({}, partial=True) == {}


def test_a_conditional_field_is_required_only_when_its_condition_holds():
    assert "death_date" not in _errors({"diagnosis_date": "2020-01-01", "vital": "alive"})
    assert _errors({"diagnosis_date": "2020-01-01", "vital": "dead"}) == {"death_date": "required when vital == 'dead'"}


def test_a_hidden_field_must_stay_empty():
    errors = _errors({"diagnosis_date": "2020-01-01", "vital": "alive", "death_date": "2021-01-01"})
    assert errors == {"death_date": "must be empty unless vital == 'dead'"}


def test_an_unknown_column_is_an_error_not_silently_dropped():
    assert _errors({"diagnosis_date": "2020-01-01", "vital": "alive", "wieght": "12"}) == {
        "wieght": "not a field of form 'demo'"
    }


def test_a_date_in_the_future_is_refused():
    errors = _errors({"diagnosis_date": "2030-01-01", "vital": "alive"}, today=dt.date(2026, 1, 1))
    assert errors == {"diagnosis_date": "2030-01-01 is in the future"}


@pytest.mark.parametrize("value", ["nan", "inf", "1e400"])
def test_a_number_that_is_not_finite_is_refused(value):
    assert "weight_g" in _errors({"diagnosis_date": "2020-01-01", "vital": "alive", "weight_g": value})
