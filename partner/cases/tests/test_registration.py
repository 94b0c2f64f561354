from partner.cases.models import FormRecord, TumourCase
from partner.cases.services import CaseInvalid, age_in_years, create_case
from partner.testing import RegistryTestCase, case_forms


class CaseRegistrationTests(RegistryTestCase):
    def test_it_classifies_the_case_and_stamps_the_dictionary_version(self):
        case = self.register(self.padova)
        self.assertEqual(case.entity.code, "ACC")
        self.assertEqual((case.iccc_group, case.iccc_extended), ("XIa", "093"))
        self.assertEqual(case.dictionary_version.number, self.dictionary.number)
        self.assertEqual(case.patient.centre, self.padova)

    def test_it_computes_the_pseudonym_and_the_age_at_diagnosis(self):
        case = self.register(self.padova, born="2010-03-01", diagnosed="2020-09-01")
        registration = FormRecord.objects.get(case=case, form__code="registration").values
        diagnosis = FormRecord.objects.get(case=case, form__code="diagnosis").values
        self.assertEqual(registration["pseudonym"], case.patient.pseudonym)
        self.assertEqual(len(case.patient.pseudonym), 64)
        self.assertAlmostEqual(diagnosis["age_at_diagnosis"], 10.5, places=1)

    def test_the_same_child_typed_differently_gets_the_same_patient(self):
        first = self.register(self.padova, given="Zoë", family="Dell'Acqua")
        second = self.register(self.padova, given="zoe", family="DELL ACQUA", morphology="8720/3", topography="C44.5")
        self.assertEqual(first.patient_id, second.patient_id)

    def test_a_tumour_module_applies_only_to_its_entity(self):
        module = self.dictionary.modules_for("ACC")[0]
        with self.assertRaises(CaseInvalid) as caught:
            create_case(
                dictionary=self.dictionary,
                centre=self.padova,
                pseudonym="p" * 64,
                forms=case_forms(morphology="8720/3", topography="C44.5", **{module.code: {}}),
            )
        self.assertIn("does not apply to the case's entity", str(caught.exception))

    def test_nothing_is_written_when_one_form_is_invalid(self):
        before = (TumourCase.objects.count(), FormRecord.objects.count())
        with self.assertRaises(CaseInvalid) as caught:
            create_case(
                dictionary=self.dictionary,
                centre=self.padova,
                pseudonym="q" * 64,
                forms=case_forms(morphology="8370", status={"last_contact_date": "not a date"}),
            )
        messages = [str(e) for e in caught.exception.errors]
        self.assertTrue(any(m.startswith("diagnosis.morphology:") for m in messages), messages)
        self.assertTrue(any(m.startswith("status.last_contact_date:") for m in messages), messages)
        self.assertEqual((TumourCase.objects.count(), FormRecord.objects.count()), before)

    def test_a_diagnosis_before_birth_is_refused(self):
        with self.assertRaises(CaseInvalid) as caught:
            self.register(self.padova, born="2015-01-01", diagnosed="2014-12-31")
        self.assertIn("before the date of birth", str(caught.exception))

    def test_a_case_that_is_not_a_vrt_is_kept_with_its_iccc_group(self):
        case = self.register(
            self.padova, morphology="8960/3", topography="C64.9", born="2020-01-01", diagnosed="2023-01-01"
        )
        self.assertIsNone(case.entity)
        self.assertEqual(case.iccc_group, "VIa")

    def test_every_change_is_in_the_history(self):
        case = self.register(self.padova)
        self.assertEqual(case.history.count(), 1)
        record = FormRecord.objects.get(case=case, form__code="diagnosis")
        self.assertEqual(record.history.count(), 1)


def test_age_counts_completed_years_and_the_fraction_since_the_birthday():
    import datetime as dt

    assert age_in_years(dt.date(2010, 3, 1), dt.date(2020, 2, 29)) < 10
    assert age_in_years(dt.date(2010, 3, 1), dt.date(2020, 3, 1)) == 10
    assert age_in_years(dt.date(2008, 2, 29), dt.date(2009, 3, 1)) == 1
