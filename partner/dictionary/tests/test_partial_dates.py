"""Which date fields accept a month or a year alone, and how the validator reads them."""

import datetime as dt

import pytest
from pydantic import ValidationError

from partner.dictionary.definitions import bundled_versions, read_definitions
from partner.dictionary.schema import FieldDef, FormDef
from partner.dictionary.validation import validate_record

L = {"en": "Seen on", "it": "x", "fr": "x", "de": "x", "pl": "x"}
TODAY = dt.date(2026, 3, 10)

FORM = FormDef.model_validate(
    {
        "code": "visits",
        "labels": L,
        "order": 1,
        "fields": [
            {"code": "seen_on", "labels": L, "type": "date"},
            {"code": "first_seen", "labels": L, "type": "date", "precision": ["day", "month", "year"]},
            {"code": "relapse", "labels": L, "type": "date", "precision": ["day", "month"]},
        ],
    }
)


def _check(field, value):
    result = validate_record(FORM, {field: value}, partial=True, today=TODAY)
    return result.values.get(field), {e.field: e.message for e in result.errors}.get(field)


class TestTheSchema:
    def test_a_field_other_than_a_date_cannot_declare_a_precision(self):
        with pytest.raises(ValidationError, match="date fields only"):
            FieldDef.model_validate({"code": "n", "labels": L, "type": "integer", "precision": ["day", "month"]})

    @pytest.mark.parametrize("precision", [["month"], ["day", "year"], ["day", "day", "month"], ["week"]])
    def test_a_precision_is_the_day_then_the_month_then_the_year(self, precision):
        with pytest.raises(ValidationError):
            FieldDef.model_validate({"code": "d", "labels": L, "type": "date", "precision": precision})

    def test_a_date_field_takes_full_dates_unless_it_says_otherwise(self):
        assert not FORM.fields[0].partial_dates
        assert FORM.fields[1].partial_dates and FORM.fields[2].partial_dates


class TestTheBundledDictionary:
    def fields(self):
        return {f.code: f for form in read_definitions().forms for f in form.fields}

    def test_events_whose_day_is_often_unknown_accept_partial_dates(self):
        fields = self.fields()
        partial = {code for code, f in fields.items() if f.partial_dates}
        assert partial == {
            "first_contact_date",
            "onset_date",
            "treatment_start_date",
            "treatment_end_date",
            "event_date",
        }
        # A relapse known to the year alone would move event-free survival by up to six months.
        assert fields["event_date"].precision == ["day", "month"]

    def test_the_dates_that_identify_the_child_or_time_survival_stay_full(self):
        fields = self.fields()
        for code in ("date_of_birth", "diagnosis_date", "date_of_death", "last_contact_date", "consent_date"):
            assert not fields[code].partial_dates, code

    def test_partial_dates_come_with_a_new_dictionary_version_the_first_left_unchanged(self):
        first, *later = bundled_versions()
        assert later, "a loaded version is never changed"
        old = read_definitions(first)
        assert old.version == 1
        assert not any(f.partial_dates for form in old.forms for f in form.fields)


class TestTheValidator:
    @pytest.mark.parametrize("value", ["2019-05-14", "2019-05", "2019"])
    def test_a_partial_date_is_stored_in_iso_8601_reduced_precision(self, value):
        assert _check("first_seen", value) == (value, None)

    @pytest.mark.parametrize("value", ["2019-05", "2019"])
    def test_a_partial_date_in_a_field_that_needs_a_full_one_is_refused_naming_the_field(self, value):
        stored, error = _check("seen_on", value)
        assert stored is None
        assert "Seen on needs a full date" in error

    def test_a_year_alone_is_refused_where_the_month_is_needed(self):
        stored, error = _check("relapse", "2019")
        assert stored is None and "at least the month" in error
        assert _check("relapse", "2019-05") == ("2019-05", None)

    @pytest.mark.parametrize("value", ["2019-02-30", "2019-13", "2019-5", "05/2019", "2019-05-14T00:00"])
    def test_what_is_not_an_existing_date_is_refused(self, value):
        stored, error = _check("first_seen", value)
        assert stored is None and error

    def test_a_partial_date_is_in_the_future_only_when_all_of_it_is(self):
        assert _check("first_seen", "2026") == ("2026", None)
        assert _check("first_seen", "2026-03") == ("2026-03", None)
        assert "in the future" in _check("first_seen", "2026-04")[1]
        assert "in the future" in _check("first_seen", "2027")[1]

    def test_a_date_object_is_a_full_date(self):
        assert _check("first_seen", dt.date(2019, 5, 14)) == ("2019-05-14", None)
