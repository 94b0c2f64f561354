"""Formula injection closed both ways: a value a spreadsheet would run is refused by every import (CSV,
workbook, a hub's push) unless its field is numeric, and neutralised by every text export."""

import csv
import io
import json
import tempfile
from pathlib import Path

from openpyxl import Workbook

from partner.accounts.models import ApiToken
from partner.cases.models import FormRecord, TumourCase
from partner.interop.exporting import export_cases, neutralised
from partner.interop.hub import case_payload, digest
from partner.interop.importing import import_cases
from partner.interop.report import report_csv
from partner.interop.tables import read_table
from partner.interop.tests.test_hub_withdrawals import COMPLETE
from partner.testing import RegistryTestCase

HEADER = [
    "external_id",
    "centre",
    "given_names",
    "family_names",
    "date_of_birth",
    "sex",
    "country_of_birth",
    "diagnosis_date",
    "morphology",
    "topography",
    "basis_of_diagnosis",
    "patient_status",
    "last_contact_date",
    "consent_reuse",
    "consent_date",
    "in_clinical_trial",
    "trial_identifier",
    "acc_tumour_weight_g",
]
ROW = [
    "T-1",
    "IT-PD",
    "Giulia",
    "Verdi",
    "2012-05-04",
    "female",
    "IT",
    "2024-02-10",
    "8370/3",
    "C74.0",
    "7",
    "alive",
    "2025-01-10",
    "given",
    "2024-02-12",
    "true",
    "EU-CT 2024-1",
    "120.5",
]
FORMULA = '=HYPERLINK("http://example.org","x")'
REFUSED = "which a spreadsheet runs as a formula"


def row(**changes: str) -> list[str]:
    return [changes.get(name, value) for name, value in zip(HEADER, ROW, strict=True)]


class FormulaImportTests(RegistryTestCase):
    def setUp(self):
        self.tmp = Path(self.enterContext(tempfile.TemporaryDirectory()))

    def csv_file(self, *rows: list[str]) -> Path:
        path = self.tmp / "cases.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows([HEADER, *rows])
        return path

    def refusals(self, result):
        return [(p.row, p.column, p.rule) for p in result.errors if REFUSED in p.message]

    def test_a_csv_cell_starting_as_a_formula_is_refused_by_row_and_column_and_nothing_is_written(self):
        before = TumourCase.objects.count()
        rows = [
            row(trial_identifier=FORMULA),
            row(external_id="T-2", trial_identifier="@SUM(A1)"),
            row(external_id="T-3", trial_identifier="+33 1 23 45"),
            row(external_id="T-4", trial_identifier="-2+3"),
            row(external_id="T-5", given_names="=1+1"),
        ]
        result = import_cases(read_table(self.csv_file(*rows)))
        self.assertEqual(
            self.refusals(result),
            [
                (2, "trial_identifier", "import"),
                (3, "trial_identifier", "import"),
                (4, "trial_identifier", "import"),
                (5, "trial_identifier", "import"),
                (6, "given_names", "import"),
            ],
        )
        self.assertEqual(result.errors[0].value, FORMULA[:40])
        self.assertFalse(result.committed)
        self.assertEqual(TumourCase.objects.count(), before)

    def test_a_formula_after_spaces_or_a_tab_is_refused_too(self):
        # A CSV cell keeps its inner text once stripped; a hub's push is not stripped at all.
        payload = self.payload(trial_identifier=" \t=1+1")
        answer = self.push(payload)
        self.assertEqual(answer.status_code, 422, answer.content)
        self.assertIn(REFUSED, json.dumps(answer.json()))

    def test_the_report_writes_the_files_own_text_behind_an_apostrophe_the_column_names_too(self):
        def report(*rows: list[str]) -> set[tuple[str, str]]:
            path = self.tmp / "cases.csv"
            with path.open("w", encoding="utf-8", newline="") as handle:
                csv.writer(handle).writerows(rows)
            lines = list(csv.reader(io.StringIO(report_csv(import_cases(read_table(path))))))
            return {(r[1], r[2]) for r in lines[1:]}

        self.assertIn(("'=cmd|' /C calc'!A0", ""), report([*HEADER, "=cmd|' /C calc'!A0"], [*row(), "x"]))
        self.assertIn(("trial_identifier", "'@SUM(A1)"), report(HEADER, row(trial_identifier="@SUM(A1)")))

    def test_a_numeric_field_may_start_with_a_minus_it_is_a_number_not_a_formula(self):
        result = import_cases(read_table(self.csv_file(row(acc_tumour_weight_g="-3"))))
        self.assertEqual(self.refusals(result), [])
        # What is wrong with -3 grams is the dictionary's to say.
        self.assertEqual([(p.column, p.rule) for p in result.errors], [("acc_tumour_weight_g", "dictionary")])

    def test_a_workbook_text_cell_starting_as_a_formula_is_refused_too(self):
        book = Workbook()
        sheet = book.active
        sheet.append(HEADER)
        sheet.append(row(trial_identifier="@SUM(A1)"))
        sheet.append(row(external_id="T-2"))
        cell = sheet.cell(row=3, column=HEADER.index("trial_identifier") + 1)
        cell.value, cell.data_type = FORMULA, "s"  # text that looks like a formula, not a formula cell
        path = self.tmp / "cases.xlsx"
        book.save(path)
        result = import_cases(read_table(path))
        self.assertEqual(
            self.refusals(result), [(2, "trial_identifier (Q)", "import"), (3, "trial_identifier (Q)", "import")]
        )
        self.assertFalse(result.committed)

    def payload(self, **registration: str) -> dict:
        case = self.register(self.padova, case_status="submitted", **COMPLETE)
        sent = case_payload(case, self.dictionary) | {"external_id": "IT-PD-777"}
        sent["forms"]["registration"] |= {"in_clinical_trial": True, **registration}
        return sent

    def push(self, *cases: dict):
        token = ApiToken.issue(self.nc_italy, "node")[1]
        body = {"digest": digest(list(cases), []), "cases": list(cases), "withdrawals": []}
        return self.client.post(
            "/api/hub/push", json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
        )

    def test_a_hub_push_goes_through_the_same_check(self):
        payload = self.payload(trial_identifier=FORMULA)
        before = TumourCase.objects.count()
        answer = self.push(payload)
        self.assertEqual(answer.status_code, 422, answer.content)
        problems = answer.json()["problems"]
        self.assertEqual(
            [(p["external_id"], p["column"]) for p in problems if REFUSED in p["message"]],
            [("IT-PD-777", "trial_identifier")],
        )
        self.assertEqual(TumourCase.objects.count(), before)


class FormulaExportTests(RegistryTestCase):
    """A value stored before imports refused formulas (or written around them) leaves neutralised."""

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.case = cls.register(cls.padova, registration={"date_of_birth": "2012-05-04", "sex": "female"})
        record = FormRecord.objects.get(case=cls.case, form__code="registration")
        record.values |= {"in_clinical_trial": True, "trial_identifier": " =1+1"}
        record.save()

    def setUp(self):
        self.out = Path(self.enterContext(tempfile.TemporaryDirectory())) / "export"

    def cells(self, path: Path, column: str) -> list[str]:
        with path.open(encoding="utf-8", newline="") as handle:
            return [r[column] for r in csv.DictReader(handle) if r.get(column)]

    def test_every_text_export_writes_it_behind_an_apostrophe(self):
        export_cases("csv", self.out / "csv")
        export_cases("datapackage", self.out / "datapackage")
        export_cases("redcap", self.out / "redcap")
        self.assertEqual(self.cells(self.out / "csv" / "cases.csv", "trial_identifier"), ["' =1+1"])
        self.assertEqual(self.cells(self.out / "datapackage" / "cases.csv", "trial_identifier"), ["' =1+1"])
        self.assertEqual(self.cells(self.out / "redcap" / "records.csv", "trial_identifier"), ["' =1+1"])

    def test_numbers_stay_numbers_and_a_formula_behind_spaces_or_a_tab_is_caught(self):
        self.assertEqual(neutralised("-12.5"), "-12.5")
        self.assertEqual(neutralised("\t=1+1"), "'\t=1+1")
        self.assertEqual(neutralised("  @SUM(A1)"), "'  @SUM(A1)")
        self.assertEqual(neutralised("8370/3"), "8370/3")
