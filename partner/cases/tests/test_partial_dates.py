"""Dates known to the month or the year only: entered in three boxes, checked by interval, imputed for analyses."""

import datetime as dt

import pandas as pd
from django.http import QueryDict

from partner.analysis.cohort import survival_table
from partner.cases.forms import DictionaryForm
from partner.cases.frames import case_frames, date_bounds
from partner.cases.validation import validate_case
from partner.quality.models import Finding, FindingStatus
from partner.testing import RegistryTestCase, case_forms


def _posted(**boxes):
    data = QueryDict(mutable=True)
    for key, value in boxes.items():
        data[f"registration-first_contact_date_{key}"] = value
    return data


class DateBoxesTests(RegistryTestCase):
    def form(self, data=None, values=None):
        return DictionaryForm(self.dictionary.form_by_code["registration"], "en", data, values=values)

    def test_a_field_that_accepts_partial_dates_has_three_labelled_numeric_boxes(self):
        html = str(self.form()["first_contact_date"])
        for part, label in (("day", "Day"), ("month", "Month"), ("year", "Year")):
            self.assertIn(f'<label for="id_registration-first_contact_date_{part}">{label}</label>', html)
            self.assertIn(f'name="registration-first_contact_date_{part}"', html)
        self.assertEqual(html.count('inputmode="numeric"'), 3)

    def test_the_fields_label_and_an_error_summary_point_at_the_first_box(self):
        self.assertEqual(self.form()["first_contact_date"].id_for_label, "id_registration-first_contact_date_day")

    def test_a_full_date_field_keeps_its_date_input(self):
        self.assertIn('type="date"', str(self.form()["date_of_birth"]))

    def test_the_day_or_the_day_and_month_may_be_left_blank(self):
        for boxes, stored in (
            ({"day": "14", "month": "5", "year": "2019"}, "2019-05-14"),
            ({"day": "", "month": "05", "year": "2019"}, "2019-05"),
            ({"day": "", "month": "", "year": "2019"}, "2019"),
        ):
            form = self.form(_posted(**boxes))
            self.assertTrue(form.is_valid(), form.errors)
            self.assertEqual(form.raw_values().get("first_contact_date"), stored)

    def test_one_iso_text_under_the_fields_name_is_read_as_the_boxes_are(self):
        data = QueryDict(mutable=True)
        data["registration-first_contact_date"] = "2019-05"
        form = self.form(data)
        self.assertTrue(form.is_valid(), form.errors)
        self.assertEqual(form.raw_values()["first_contact_date"], "2019-05")
        data["registration-first_contact_date"] = "2019-05-011"
        self.assertFalse(self.form(data).is_valid())

    def test_three_blank_boxes_are_no_answer(self):
        form = self.form(_posted(day="", month="", year=""))
        self.assertTrue(form.is_valid())
        self.assertNotIn("first_contact_date", form.raw_values())

    def test_impossible_or_incomplete_dates_get_a_clear_error(self):
        for boxes, words in (
            ({"day": "31", "month": "2", "year": "2019"}, "31/2/2019 is not a date that exists"),
            ({"day": "", "month": "13", "year": "2019"}, "13/2019 is not a date that exists"),
            ({"day": "", "month": "5", "year": ""}, "Give the year"),
            ({"day": "14", "month": "", "year": "2019"}, "Give the month"),
            ({"day": "", "month": "5", "year": "19"}, "four digits"),
            ({"day": "1a", "month": "5", "year": "2019"}, "in digits"),
        ):
            form = self.form(_posted(**boxes))
            self.assertFalse(form.is_valid(), boxes)
            self.assertIn(words, " ".join(form.errors["first_contact_date"]))

    def test_a_year_alone_is_refused_where_the_month_is_needed(self):
        definition = self.dictionary.form_by_code["follow_up"]
        data = QueryDict(mutable=True)
        data.update(
            {"follow_up-event_date_day": "", "follow_up-event_date_month": "", "follow_up-event_date_year": "2019"}
        )
        form = DictionaryForm(definition, "en", data)
        self.assertFalse(form.is_valid())
        self.assertIn("Give the month too", " ".join(form.errors["event_date"]))

    def test_what_was_typed_is_shown_again_after_a_failed_save(self):
        html = str(self.form(_posted(day="31", month="2", year="2019"))["first_contact_date"])
        self.assertIn('name="registration-first_contact_date_day" value="31"', html)
        self.assertIn('name="registration-first_contact_date_month" value="2"', html)

    def test_a_stored_partial_date_fills_the_month_and_year_boxes(self):
        html = str(self.form(values={"first_contact_date": "2019-05"})["first_contact_date"])
        self.assertIn('name="registration-first_contact_date_month" value="5"', html)
        self.assertIn('name="registration-first_contact_date_year" value="2019"', html)
        self.assertNotIn('name="registration-first_contact_date_day" value', html)


class CaseDatesTests(RegistryTestCase):
    def errors(self, **diagnosis):
        forms = case_forms(born="2012-05-04")
        forms["diagnosis"] |= diagnosis
        cleaned, errors = validate_case(self.dictionary, forms, partial=True)
        return cleaned, {(e.form, e.field): e.message for e in errors}

    def test_an_onset_in_the_year_of_birth_is_not_before_birth(self):
        cleaned, errors = self.errors(onset_date="2012")
        self.assertEqual(errors, {})
        # its age is taken at 1 July, after the birth on 4 May
        self.assertEqual(cleaned["diagnosis"][0]["age_at_onset"], 0.15)

    def test_an_onset_whose_every_day_is_before_birth_is_an_error(self):
        _cleaned, errors = self.errors(onset_date="2012-04")
        self.assertIn("before the date of birth", errors[("diagnosis", "onset_date")])

    def test_the_age_at_onset_is_taken_inside_birth_and_diagnosis(self):
        cleaned, _errors = self.errors(onset_date="2024", diagnosis_date="2024-02-10")
        self.assertEqual(cleaned["diagnosis"][0]["age_at_onset"], cleaned["diagnosis"][0]["age_at_diagnosis"])

    def test_a_partial_date_where_the_field_needs_a_full_one_names_the_field(self):
        _cleaned, errors = self.errors(diagnosis_date="2024-02")
        self.assertIn("Date of diagnosis needs a full date", errors[("diagnosis", "diagnosis_date")])


class ImputationTests(RegistryTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        status = {"patient_status": "alive", "last_contact_date": "2024-09-20"}
        cls.case = cls.register(
            cls.padova,
            case_status="submitted",
            registration={"date_of_birth": "2012-05-04", "sex": "female", "first_contact_date": "2024"},
            diagnosis={
                "diagnosis_date": "2024-02-10",
                "onset_date": "2024",
                "morphology": "8370/3",
                "topography": "C74.0",
            },
            treatment=[
                {"line_type": "surgery", "treatment_start_date": "2024-02"},
                {"line_type": "chemotherapy", "treatment_start_date": "2024-03"},
            ],
            follow_up=[{"event_type": "relapse", "event_date": "2024-09"}],
            status=status,
        )

    def test_a_partial_date_is_imputed_at_the_middle_of_its_period_with_its_precision_beside(self):
        frames = case_frames(self.european)
        lines = frames.repeating["treatment"]
        self.assertEqual(list(lines["treatment_start_date"]), [pd.Timestamp("2024-02-15"), pd.Timestamp("2024-03-15")])
        self.assertEqual(list(lines["treatment_start_date_precision"]), ["month", "month"])
        self.assertEqual(frames.cases.loc[0, "first_contact_date_precision"], "year")

    def test_the_imputed_day_stays_inside_the_cases_known_dates(self):
        frames = case_frames(self.european)
        case = frames.cases.iloc[0]
        # the onset of 2024 cannot follow the diagnosis on 10 February: 1 July becomes 10 February
        self.assertEqual(case["onset_date"], pd.Timestamp("2024-02-10"))
        # first contact in 2024, last known alive on 20 September: 1 July stands
        self.assertEqual(case["first_contact_date"], pd.Timestamp("2024-07-01"))
        # a relapse in September 2024, last contact on the 20th: the 15th stands
        self.assertEqual(frames.repeating["follow_up"].loc[0, "event_date"], pd.Timestamp("2024-09-15"))

    def test_event_free_survival_reads_the_imputed_relapse_date(self):
        frames = case_frames(self.european)
        table = survival_table(frames.cases, frames.repeating["follow_up"], endpoint="event_free")
        self.assertEqual(table["duration"].tolist(), [(dt.date(2024, 9, 15) - dt.date(2024, 2, 10)).days])
        self.assertEqual(table["event"].tolist(), [1])

    def test_the_bounds_of_a_partial_date_are_its_first_and_last_day(self):
        lines = case_frames(self.european).repeating["treatment"]
        first, last = date_bounds(lines, "treatment_start_date")
        self.assertEqual((first[0], last[0]), (pd.Timestamp("2024-02-01"), pd.Timestamp("2024-02-29")))


class QualityByIntervalTests(RegistryTestCase):
    def register_treated(self, start, given):
        return self.register(
            self.padova,
            given=given,
            diagnosis={"diagnosis_date": "2024-02-10", "morphology": "8370/3", "topography": "C74.0"},
            treatment=[{"line_type": "surgery", "treatment_start_date": start, "surgery_type": "biopsy_open"}],
        )

    def open_rules(self, case):
        return list(Finding.objects.filter(case=case, status=FindingStatus.OPEN).values_list("rule", flat=True))

    def test_a_treatment_in_the_month_of_diagnosis_may_follow_it(self):
        self.assertNotIn("DATE-DX-TREAT", self.open_rules(self.register_treated("2024-02", "Anna")))
        self.assertNotIn("DATE-DX-TREAT", self.open_rules(self.register_treated("2024", "Bianca")))

    def test_a_line_ending_in_the_month_it_started_is_not_found_ending_before_it(self):
        def line(end, given):
            return self.register(
                self.padova,
                given=given,
                diagnosis={"diagnosis_date": "2024-02-10", "morphology": "8370/3", "topography": "C74.0"},
                treatment=[
                    {
                        "line_type": "chemotherapy",
                        "chemo_agents": ["cisplatin"],
                        "treatment_start_date": "2024-03-20",
                        "treatment_end_date": end,
                    }
                ],
            )

        # Its imputed day, 15 March, is before the start: only the interval says it may not be.
        self.assertNotIn("DATE-TREAT-END", self.open_rules(line("2024-03", "Dora")))
        self.assertIn("DATE-TREAT-END", self.open_rules(line("2024-02", "Elena")))

    def test_a_treatment_whose_every_day_is_before_diagnosis_is_found_with_the_date_as_stored(self):
        case = self.register_treated("2024-01", "Carla")
        self.assertIn("DATE-DX-TREAT", self.open_rules(case))
        finding = Finding.objects.get(case=case, rule="DATE-DX-TREAT")
        self.assertIn("treatment_start_date=2024-01;", finding.values)
