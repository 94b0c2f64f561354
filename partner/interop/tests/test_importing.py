"""Importing cases: all or nothing, the report names row and column, a re-import updates and never duplicates."""

import io

from django.core.management import CommandError, call_command

from partner.accounts.models import NationalGroup
from partner.cases.models import FormRecord, Patient, TumourCase
from partner.interop.importing import import_cases
from partner.interop.mapping import Mapping
from partner.interop.models import ImportMapping
from partner.interop.tables import read_table
from partner.linkage.models import LinkageKey
from partner.quality.models import Finding
from partner.testing import RegistryTestCase

HEADER = ";".join(
    [
        "ID",
        "CENTRO",
        "NOME",
        "COGNOME",
        "NATO",
        "SESSO",
        "PAESE",
        "DIAGNOSI",
        "MORFOLOGIA",
        "TOPOGRAFIA",
        "BASE",
        "STATO",
        "CONTATTO",
        "CONSENSO",
        "DATA_CONSENSO",
        "NOTE",
    ]
)
GIULIA = "T-1;IT-PD;Giulia;Verdi;04/05/2012;femmina;IT;10/02/2024;8370/3;C74.0;7;alive;10/01/2025;given;12/02/2024;ok"
MARCO = "T-2;IT-MI;Marco;Neri;01/03/2010;maschio;IT;02/05/2024;8370/3;C74.0;7;alive;10/01/2025;given;12/05/2024;"
TREP = {
    "group": "TREP",
    "name": "trep-2024",
    "columns": {
        "ID": "external_id",
        "CENTRO": "centre",
        "NOME": "given_names",
        "COGNOME": "family_names",
        "NATO": "date_of_birth",
        "SESSO": "sex",
        "PAESE": "country_of_birth",
        "DIAGNOSI": "diagnosis_date",
        "MORFOLOGIA": "morphology",
        "TOPOGRAFIA": "topography",
        "BASE": "basis_of_diagnosis",
        "STATO": "patient_status",
        "CONTATTO": "last_contact_date",
        "CONSENSO": "consent_reuse",
        "DATA_CONSENSO": "consent_date",
        "NOTE": "-",
    },
    "values": {"sex": {"maschio": "male", "femmina": "female"}},
    "dates": "%d/%m/%Y",
}


class ImportTests(RegistryTestCase):
    def table(self, *rows, name="trep.csv", header=HEADER):
        path = self.tmp / name
        path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
        return read_table(path)

    def setUp(self):
        import tempfile
        from pathlib import Path

        self.tmp = Path(tempfile.mkdtemp())
        self.mapping = Mapping.from_data(TREP)

    def snapshot(self):
        return (
            TumourCase.objects.count(),
            Patient.objects.count(),
            FormRecord.objects.count(),
            FormRecord.history.count(),
            Finding.objects.count(),
            LinkageKey.objects.count(),
        )

    def test_a_dry_run_checks_everything_and_writes_nothing(self):
        before = self.snapshot()
        result = import_cases(self.table(GIULIA, MARCO), mapping=self.mapping, dry_run=True)
        self.assertEqual((result.created, result.errors, result.committed), (2, [], False))
        self.assertEqual(self.snapshot(), before)

    def test_the_import_registers_the_cases_with_pseudonyms_encodings_and_mapped_values(self):
        result = import_cases(self.table(GIULIA, MARCO), mapping=self.mapping)
        self.assertTrue(result.committed)
        case = TumourCase.objects.get(external_id="T-1")
        self.assertEqual((case.centre, case.status, case.entity.code), (self.padova, "submitted", "ACC"))
        registration = case.records.get(form__code="registration").values
        self.assertEqual((registration["sex"], registration["date_of_birth"]), ("female", "2012-05-04"))
        self.assertTrue(LinkageKey.objects.filter(patient=case.patient).exists())
        stored = repr(list(FormRecord.objects.values_list("values", flat=True)))
        self.assertNotIn("Verdi", stored)

    def test_importing_the_same_file_again_changes_nothing_and_a_changed_value_updates_the_case(self):
        import_cases(self.table(GIULIA, MARCO), mapping=self.mapping)
        before = self.snapshot()
        again = import_cases(self.table(GIULIA, MARCO), mapping=self.mapping)
        self.assertEqual((again.created, again.updated, again.unchanged), (0, 0, 2))
        self.assertEqual(self.snapshot(), before)
        changed = GIULIA.replace(";10/01/2025;", ";20/03/2025;")
        third = import_cases(self.table(changed, MARCO), mapping=self.mapping)
        self.assertEqual((third.created, third.updated, third.unchanged), (0, 1, 1))
        record = FormRecord.objects.get(case__external_id="T-1", form__code="status")
        self.assertEqual((record.values["last_contact_date"], record.version), ("2025-03-20", 2))
        self.assertEqual(TumourCase.objects.count(), 2)

    def test_one_bad_row_stops_the_whole_file_and_the_report_names_row_column_and_value(self):
        bad = MARCO.replace("01/03/2010", "31/02/2010").replace("IT-MI", "IT-XX")
        before = self.snapshot()
        result = import_cases(self.table(GIULIA, bad), mapping=self.mapping)
        self.assertFalse(result.committed)
        self.assertEqual(self.snapshot(), before)
        found = {(p.row, p.column, p.value) for p in result.errors}
        self.assertIn((3, "CENTRO", "IT-XX"), found)
        self.assertIn((3, "NATO", "31/02/2010"), found)
        self.assertIn(
            "'31/02/2010' is not a date that exists", next(p.message for p in result.errors if p.column == "NATO")
        )
        shape = import_cases(self.table(MARCO.replace("01/03/2010", "1 March 2010")), mapping=self.mapping)
        self.assertIn("is not a date written %d/%m/%Y", shape.errors[0].message)

    def test_an_impossible_date_of_birth_is_called_one_and_a_workbook_names_its_column_by_header_and_letter(self):
        from openpyxl import Workbook

        header = ["external_id", "centre", "given_names", "family_names", "date_of_birth", "sex", "country_of_birth"]
        book = Workbook()
        for row in (header, ["T-9", "IT-PD", "Giulia", "Verdi", "2012-02-31", "female", "IT"]):
            book.active.append(row)
        book.save(self.tmp / "cases.xlsx")
        result = import_cases(read_table(self.tmp / "cases.xlsx"))
        self.assertIn(
            (2, "date_of_birth (E)", "not a date that exists"), {(p.row, p.column, p.message) for p in result.errors}
        )

    def test_an_unknown_column_is_refused_unless_the_mapping_leaves_it_out(self):
        result = import_cases(
            self.table(GIULIA.rsplit(";", 1)[0] + ";x", header=HEADER.replace("NOTE", "NOTES")), mapping=self.mapping
        )
        self.assertEqual([(p.row, p.column, p.rule) for p in result.errors], [(1, "NOTES", "import")])

    def test_quality_errors_stop_a_submitted_import_but_not_drafts(self):
        early = GIULIA.replace(";10/01/2025;", ";01/01/2024;")  # last contact before the diagnosis
        result = import_cases(self.table(early), mapping=self.mapping)
        self.assertFalse(result.committed)
        self.assertEqual([(p.row, p.column, p.rule) for p in result.errors], [(2, "CONTATTO", "DATE-DX-CONTACT")])
        self.assertEqual(TumourCase.objects.count(), 0)
        drafts = import_cases(self.table(early), mapping=self.mapping, status="draft")
        self.assertTrue(drafts.committed)
        self.assertEqual(Finding.objects.get().rule, "DATE-DX-CONTACT")

    def test_the_same_case_twice_in_a_file_and_another_child_under_a_known_identifier_are_refused(self):
        result = import_cases(self.table(GIULIA, GIULIA), mapping=self.mapping)
        self.assertIn("the same case as row 2", result.errors[0].message)
        import_cases(self.table(GIULIA), mapping=self.mapping)
        other = GIULIA.replace("Giulia;Verdi", "Anna;Bianchi")
        result = import_cases(self.table(other), mapping=self.mapping)
        self.assertIn("belongs to another child", result.errors[0].message)

    def test_a_user_imports_only_into_the_centres_of_their_scope(self):
        result = import_cases(self.table(GIULIA, MARCO), mapping=self.mapping, user=self.dm_padova, dry_run=True)
        self.assertEqual([(p.row, p.column) for p in result.errors], [(3, "CENTRO")])
        result = import_cases(self.table(GIULIA, MARCO), mapping=self.mapping, user=self.nc_italy, dry_run=True)
        self.assertEqual(result.errors, [])

    def test_a_node_sends_pseudonyms_and_encodings_made_offline(self):
        identities = self.tmp / "identities.csv"
        identities.write_text(
            "local_id,given_names,family_names,date_of_birth,sex,country_of_birth\nT-1,Giulia,Verdi,2012-05-04,female,IT\n"
        )
        encoded = self.tmp / "encoded.csv"
        call_command("identity", "encode", str(identities), "--out", str(encoded), stdout=io.StringIO())
        local_id, key, encoding, schema = encoded.read_text().splitlines()[1].split(",")
        header = (
            "external_id,centre,pseudonym,linkage_encoding,linkage_schema,date_of_birth,sex,"
            "diagnosis_date,morphology,topography"
        )
        row = f"{local_id},IT-PD,{key},{encoding},{schema},2012-05-04,female,2024-02-10,8370/3,C74.0"
        result = import_cases(self.table(row, header=header), status="draft")
        self.assertTrue(result.committed, result.problems)
        case = TumourCase.objects.get(external_id="T-1")
        self.assertEqual(case.patient.pseudonym, key)
        self.assertEqual(case.patient.linkage.encoding, encoding)
        # The same child imported with its identity at another centre is the same patient.
        import_cases(self.table(GIULIA.replace("T-1;IT-PD", "T-9;IT-MI")), mapping=self.mapping)
        self.assertEqual(Patient.objects.count(), 1)


class ImportCommandTests(RegistryTestCase):
    def test_the_command_saves_a_mapping_imports_with_it_and_writes_both_reports(self):
        import tempfile
        from pathlib import Path

        import yaml

        tmp = Path(tempfile.mkdtemp())
        NationalGroup.objects.create(country=self.italy, acronym="TREP", name="Tumori Rari in Età Pediatrica")
        (tmp / "trep.yaml").write_text(yaml.safe_dump(TREP))
        out = io.StringIO()
        call_command("import", "mapping", "save", str(tmp / "trep.yaml"), stdout=out)
        self.assertEqual(out.getvalue().strip(), "mapping TREP/trep-2024 saved")
        self.assertEqual(ImportMapping.objects.get().definition["values"]["sex"]["maschio"], "male")
        (tmp / "cases.csv").write_text("\n".join([HEADER, GIULIA, MARCO]) + "\n")
        out = io.StringIO()
        call_command(
            "import",
            "cases",
            str(tmp / "cases.csv"),
            "--mapping",
            "trep/trep-2024",
            "--dry-run",
            "--report",
            str(tmp / "report.csv"),
            stdout=out,
        )
        self.assertIn("would import 2 rows (2 new, 0 updated, 0 unchanged)", out.getvalue())
        self.assertEqual(TumourCase.objects.count(), 0)
        self.assertEqual((tmp / "report.csv").read_text().splitlines()[0], "row,column,value,severity,rule,message")
        self.assertIn("dry run: nothing imported yet", (tmp / "report.html").read_text())
        bad = GIULIA.replace("IT-PD", "IT-XX")
        (tmp / "bad.csv").write_text("\n".join([HEADER, bad]) + "\n")
        err = io.StringIO()
        with self.assertRaisesMessage(CommandError, "bad.csv: nothing imported, 1 errors in 1 rows"):
            call_command(
                "import",
                "cases",
                str(tmp / "bad.csv"),
                "--mapping",
                str(tmp / "trep.yaml"),
                stdout=io.StringIO(),
                stderr=err,
            )
        self.assertIn("bad.csv, row 2, CENTRO: no centre with this code", err.getvalue())
        with self.assertRaisesMessage(CommandError, "no such file, nor saved mapping"):
            call_command("import", "cases", str(tmp / "cases.csv"), "--mapping", "TREP/none")
