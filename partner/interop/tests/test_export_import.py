"""An export read back by the import: its form files named in the report, its own columns accepted only
from an export, its drafts kept drafts, and a damaged export refused whole."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

from django.core.management import CommandError, call_command

from partner.cases.models import Patient, Status, TumourCase
from partner.interop.export_tables import read_cases
from partner.interop.exporting import export_cases
from partner.interop.importing import import_cases
from partner.interop.tables import TableError, read_table
from partner.interop.tests.test_hub_withdrawals import COMPLETE
from partner.linkage.models import LinkageKey
from partner.testing import RegistryTestCase

CHEMO = {"chemo_agents": ["cisplatin", "etoposide"]}


def edit(path: Path, change) -> None:
    """Rewrite a CSV file, each row (a dict) changed in place by `change`."""
    with path.open(encoding="utf-8", newline="") as handle:
        lines = list(csv.DictReader(handle))
    for line in lines:
        change(line)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, list(lines[0]) if lines else [])
        writer.writeheader()
        writer.writerows(lines)


class ExportImportTests(RegistryTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        treatment = [
            {"line_type": "surgery", "treatment_start_date": "2024-02-20", "surgery_type": "biopsy_needle"},
            {"line_type": "chemotherapy", "treatment_start_date": "2024-03-15", "chemo_cycles": 4, **CHEMO},
        ]
        cls.submitted = cls.register(cls.padova, case_status="submitted", treatment=treatment, **COMPLETE)
        cls.draft = cls.register(cls.paris, given="Léa", family="Martin")  # lacks what a submitted case needs
        for case, source in ((cls.submitted, "PD-17"), (cls.draft, "PA-3")):
            TumourCase.objects.filter(pk=case.pk).update(external_id=source)

    def setUp(self):
        self.tmp = Path(self.enterContext(tempfile.TemporaryDirectory()))
        self.out = self.tmp / "export"
        export_cases("csv", self.out)

    def empty(self) -> None:
        TumourCase.objects.all().delete()
        Patient.objects.all().delete()

    def test_a_draft_comes_back_a_draft_and_a_submitted_case_as_the_import_says(self):
        self.empty()
        result = import_cases(read_cases(self.out, self.dictionary))
        self.assertEqual([p.message for p in result.errors], [])
        statuses = dict(TumourCase.objects.values_list("external_id", "status"))
        self.assertEqual(statuses, {"PD-17": Status.SUBMITTED, "PA-3": Status.DRAFT})

    def test_a_form_file_holding_its_header_alone_is_a_form_no_case_has_lines_of(self):
        self.assertEqual(len((self.out / "follow_up.csv").read_text(encoding="utf-8").splitlines()), 1)
        table = read_cases(self.out, self.dictionary)
        self.assertEqual(table.files, ["cases.csv", "treatment.csv"])
        self.assertIn("treatment.2.chemo_agents", table.columns)

    def test_a_problem_in_a_form_file_names_that_file_its_row_and_its_column(self):
        edit(self.out / "treatment.csv", lambda r: r.update(chemo_cycles="many") if r["instance"] == "2" else None)
        self.empty()
        err = io.StringIO()
        with self.assertRaisesMessage(CommandError, "nothing imported, 1 errors"):
            call_command("import", "cases", str(self.out / "cases.csv"), stdout=io.StringIO(), stderr=err)
        self.assertIn("treatment.csv, row 3, chemo_cycles:", err.getvalue())
        self.assertEqual(TumourCase.objects.count(), 0)

    def test_a_country_that_is_not_the_centres_is_refused(self):
        edit(self.out / "cases.csv", lambda r: r.update(country="DE") if r["centre"] == "IT-PD" else None)
        self.empty()
        result = import_cases(read_cases(self.out, self.dictionary))
        self.assertEqual([(p.row, p.column, p.value) for p in result.errors], [(2, "country", "DE")])
        self.assertEqual(TumourCase.objects.count(), 0)

    def test_the_exports_own_columns_are_refused_from_a_file_that_is_not_an_export(self):
        edit(self.out / "cases.csv", lambda r: r.pop("case_id"))
        (self.out / "treatment.csv").unlink()
        (self.out / "follow_up.csv").unlink()
        result = import_cases(read_cases(self.out / "cases.csv", self.dictionary), dry_run=True)
        refused = sorted(p.column for p in result.errors)
        self.assertIn("status", refused)
        self.assertIn("age_at_diagnosis", refused)

    def test_a_line_of_a_case_the_export_does_not_hold_refuses_the_whole_export(self):
        with (self.out / "treatment.csv").open("a", encoding="utf-8") as handle:
            handle.write("999999,1,surgery" + "," * (len(read_table(self.out / "treatment.csv").columns) - 3) + "\n")
        with self.assertRaisesMessage(TableError, "treatment.csv, row 4, case_id: no case '999999' in cases.csv"):
            read_cases(self.out, self.dictionary)

    def test_a_line_given_twice_refuses_the_whole_export(self):
        edit(self.out / "treatment.csv", lambda r: r.update(instance="1"))
        with self.assertRaisesMessage(TableError, "treatment.csv, row 3: line 1 of case"):
            read_cases(self.out, self.dictionary)

    def test_a_folder_without_the_cases_file_is_refused(self):
        (self.out / "cases.csv").unlink()
        with self.assertRaisesMessage(TableError, "a folder without cases.csv"):
            read_cases(self.out, self.dictionary)

    def test_redcap_records_with_a_line_before_its_record_are_refused(self):
        export_cases("redcap", self.tmp / "redcap")
        path = self.tmp / "redcap" / "records.csv"
        lines = path.read_text(encoding="utf-8").splitlines()
        path.write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n", encoding="utf-8")
        with self.assertRaisesMessage(TableError, "comes before its record's row"):
            read_cases(path, self.dictionary)

    def test_redcap_records_of_an_unknown_data_access_group_are_refused_by_row(self):
        export_cases("redcap", self.tmp / "redcap")
        edit(self.tmp / "redcap" / "records.csv", lambda r: r.update(redcap_data_access_group="xx_nowhere"))
        self.empty()
        result = import_cases(read_cases(self.tmp / "redcap" / "records.csv", self.dictionary), status=Status.DRAFT)
        self.assertEqual({(p.column, p.value) for p in result.errors}, {("redcap_data_access_group", "xx_nowhere")})
        self.assertEqual(TumourCase.objects.count(), 0)

    def test_an_uploaded_cases_file_or_redcap_records_read_alone_are_read_as_the_export(self):
        export_cases("redcap", self.tmp / "redcap")
        self.empty()
        alone = import_cases(read_table(self.tmp / "redcap" / "records.csv"), status=Status.DRAFT, dry_run=True)
        self.assertEqual((alone.errors, alone.rows, alone.created), ([], 2, 2))
        (self.out / "treatment.csv").unlink()  # an upload is one file: the case rows alone
        alone = import_cases(read_table(self.out / "cases.csv"), dry_run=True)
        self.assertEqual((alone.errors, alone.created), ([], 2))

    def test_an_export_imported_back_into_its_registry_changes_nothing_even_of_a_locked_case(self):
        TumourCase.objects.filter(pk=self.submitted.pk).update(status=Status.LOCKED)
        result = import_cases(read_cases(self.out, self.dictionary))
        self.assertEqual((result.errors, result.unchanged, result.committed), ([], 2, True))
        edit(self.out / "cases.csv", lambda r: r.update(last_contact_date="2025-02-01"))
        result = import_cases(read_cases(self.out, self.dictionary))
        self.assertEqual([(p.row, p.column) for p in result.errors], [(2, "external_id")])
        self.assertIn("locked", result.errors[0].message)

    def test_the_child_comes_back_by_pseudonym_without_a_linkage_encoding_which_no_export_carries(self):
        pseudonyms = set(Patient.objects.values_list("pseudonym", flat=True))
        self.assertFalse(any("linkage" in column for column in read_table(self.out / "cases.csv").columns))
        self.empty()
        import_cases(read_cases(self.out, self.dictionary))
        self.assertEqual(set(Patient.objects.values_list("pseudonym", flat=True)), pseudonyms)
        self.assertFalse(LinkageKey.objects.exists())

    def test_a_case_imported_from_an_export_gets_its_linkage_encoding_from_a_later_file_of_its_node(self):
        encoding = LinkageKey.objects.get(patient=self.submitted.patient).encoding
        self.empty()
        import_cases(read_cases(self.out, self.dictionary))
        later = self.tmp / "encodings.csv"
        pseudonym = self.submitted.patient.pseudonym
        later.write_text(f"external_id,centre,pseudonym,linkage_encoding\nPD-17,IT-PD,{pseudonym},{encoding}\n")
        result = import_cases(read_table(later))
        self.assertEqual((result.errors, result.unchanged), ([], 1))
        self.assertEqual(LinkageKey.objects.get(patient__pseudonym=pseudonym).encoding, encoding)

    def test_an_uploaded_export_workbook_is_read_with_its_form_sheets_and_counted_by_its_cases(self):
        from openpyxl import Workbook

        from partner.interop.jobs import steps

        book = Workbook()
        book.remove(book.active)
        for name in ("cases", "treatment"):
            sheet = book.create_sheet(name)
            with (self.out / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
                for line in csv.reader(handle):
                    sheet.append([cell or None for cell in line])
        upload = self.tmp / "a1b2c3.xlsx"  # an upload is kept under a name of the registry's
        book.save(upload)
        options = {
            "name": "export.xlsx",
            "sheet": "",
            "encoding": "utf-8",
            "mapping": None,
            "centre": "",
            "status": "draft",
        }
        total, rows = steps(upload, options, user=self.european, dry_run=True)
        self.assertEqual(total, 2)
        with self.assertRaises(StopIteration) as done:
            while True:
                next(rows)
        result = done.exception.value
        self.assertEqual((result.errors, result.unchanged, result.source), ([], 2, "export.xlsx [cases]"))
        export_cases("redcap", self.tmp / "redcap")
        total, _rows = steps(
            self.tmp / "redcap" / "records.csv", {**options, "name": "records.csv"}, user=self.european, dry_run=True
        )
        self.assertEqual(total, 2)  # the cases, not the records' rows of treatment lines
