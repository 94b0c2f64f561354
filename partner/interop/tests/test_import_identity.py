"""An imported row never gives a known child another date of birth or sex: on either import path."""

from partner.cases.models import Patient, TumourCase
from partner.interop.importing import import_cases
from partner.interop.tables import Table
from partner.testing import RegistryTestCase

COLUMNS = ["external_id", "centre", "pseudonym", "date_of_birth", "sex", "diagnosis_date", "morphology", "topography"]


def row(external_id, pseudonym, born, sex="female"):
    values = [external_id, "IT-PD", pseudonym, born, sex, "2024-02-10", "8370/3", "C74.0"]
    return dict(zip(COLUMNS, values, strict=True))


class ImportedIdentityTests(RegistryTestCase):
    def import_rows(self, *rows, bulk):
        table = Table("cases.csv", COLUMNS, [(n, r) for n, r in enumerate(rows, start=2)])
        return import_cases(table, user=self.dm_padova, status="draft", bulk=bulk)

    def test_a_new_case_of_a_known_child_with_another_date_of_birth_is_refused_by_row(self):
        known = self.register(self.padova).patient
        for bulk in (True, False):
            with self.subTest(bulk=bulk):
                result = self.import_rows(row("N-1", known.pseudonym, "2012-05-05"), bulk=bulk)
                self.assertFalse(result.committed)
                self.assertEqual([(p.row, p.column) for p in result.errors], [(2, "date_of_birth")])
                self.assertIn("pseudonym", result.errors[0].message)
                self.assertEqual(TumourCase.objects.count(), 1)

    def test_two_rows_of_one_pseudonym_must_agree_on_the_child(self):
        key = "a" * 64
        for bulk in (True, False):
            with self.subTest(bulk=bulk):
                result = self.import_rows(
                    row("N-1", key, "2012-05-04"), row("N-2", key, "2012-05-04", "male"), bulk=bulk
                )
                self.assertFalse(result.committed)
                self.assertEqual([(p.row, p.column) for p in result.errors], [(3, "sex")])
                self.assertFalse(Patient.objects.filter(pseudonym=key).exists())

    def test_rows_that_agree_are_stored_as_one_patient(self):
        key = "b" * 64
        result = self.import_rows(row("N-1", key, "2012-05-04"), row("N-2", key, "2012-05-04"), bulk=True)
        self.assertTrue(result.committed, result.errors)
        self.assertEqual(Patient.objects.get(pseudonym=key).cases.count(), 2)
