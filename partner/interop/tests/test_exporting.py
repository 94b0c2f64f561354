"""Exports: scoped, consent-aware, generated from the dictionary, all or nothing, and every one of them logged."""

import csv
import datetime as dt
import io
import json
import tempfile
from pathlib import Path
from unittest import mock

from django.core.management import CommandError, call_command

from partner.cases.consent import withdraw_consent
from partner.cases.models import AccessLog, TumourCase
from partner.dictionary import redcap
from partner.interop import exporting
from partner.interop.exporting import ExportError, checkbox_suffix, export_cases, neutralised
from partner.interop.models import ExportLog
from partner.testing import RegistryTestCase

FORMULA = '=HYPERLINK("http://example.org","x")'


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


class ExportTestCase(RegistryTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.acc = cls.register(
            cls.padova,
            registration={
                "date_of_birth": "2012-05-04",
                "sex": "female",
                "in_clinical_trial": True,
                "trial_identifier": FORMULA,
            },
            diagnosis={
                "diagnosis_date": "2024-02-10",
                "morphology": "8370/3",
                "topography": "C74.0",
                "metastatic_at_diagnosis": "yes",
                "metastasis_sites": ["lung", "bone"],
            },
            acc={"acc_tumour_weight_g": 120.5, "acc_virilisation": True},
            treatment=[
                {"line_type": "surgery", "treatment_start_date": "2024-02-20"},
                {
                    "line_type": "chemotherapy",
                    "treatment_start_date": "2024-03-15",
                    "chemo_agents": ["cisplatin", "etoposide"],
                    "chemo_cycles": 4,
                },
            ],
            follow_up=[
                {
                    "event_type": "relapse",
                    "event_date": "2025-01-10",
                    "relapse_type": "metastatic",
                    "relapse_sites": ["liver"],
                }
            ],
        )
        cls.melanoma = cls.register(cls.milano, given="Luca", morphology="8720/3", topography="C44.5", sex="male")
        cls.french = cls.register(cls.paris, given="Léa", family="Martin")
        cls.withdrawn = cls.register(cls.padova, given="Sara", family="Bianchi")
        withdraw_consent(case=cls.withdrawn, withdrawn_on=dt.date(2025, 3, 1), erase=False, user=cls.european)

    def setUp(self):
        self.root = Path(self.enterContext(tempfile.TemporaryDirectory()))
        self.out = self.root / "export"


class CsvExportTests(ExportTestCase):
    def test_cases_csv_has_one_row_per_case_with_its_pseudonym_dates_choices_and_multichoices(self):
        export_cases("csv", self.out)
        rows = {int(r["case_id"]): r for r in read_csv(self.out / "cases.csv")}
        self.assertEqual(set(rows), {self.acc.id, self.melanoma.id, self.french.id})
        acc = rows[self.acc.id]
        self.assertEqual(acc["pseudonym"], self.acc.patient.pseudonym)
        self.assertEqual((acc["centre"], acc["country"], acc["entity"]), ("IT-PD", "IT", "ACC"))
        self.assertEqual(acc["diagnosis_date"], "2024-02-10")
        self.assertEqual(acc["sex"], "female")
        self.assertEqual(acc["metastasis_sites"], "lung|bone")
        self.assertEqual(acc["in_clinical_trial"], "true")
        self.assertEqual(acc["acc_tumour_weight_g"], "120.5")
        self.assertEqual(rows[self.melanoma.id]["sex"], "male")
        self.assertEqual(rows[self.melanoma.id]["acc_tumour_weight_g"], "")

    def test_its_columns_are_the_cases_own_then_every_field(self):
        export_cases("csv", self.out)
        with (self.out / "cases.csv").open(encoding="utf-8") as handle:
            header = next(csv.reader(handle))
        own = ["case_id", "external_id", "pseudonym", "child_id", "centre", "country", "status", "entity", "iccc_group"]
        self.assertEqual(header[: len(own) + 1], [*own, "iccc_extended"])
        fields = [f.code for form in self.dictionary.forms if not form.repeating for f in form.fields]
        self.assertEqual(header[len(own) + 1 :], [f for f in fields if f != "pseudonym"])

    def test_repeating_forms_have_a_file_each_keyed_by_case_and_instance(self):
        written = export_cases("csv", self.out)
        self.assertEqual([p.name for p in written], ["cases.csv", "treatment.csv", "follow_up.csv"])
        lines = read_csv(self.out / "treatment.csv")
        self.assertEqual(
            [(int(r["case_id"]), r["instance"], r["line_type"]) for r in lines][1], (self.acc.id, "2", "chemotherapy")
        )
        self.assertEqual(lines[1]["chemo_agents"], "cisplatin|etoposide")
        self.assertEqual(lines[1]["chemo_cycles"], "4")
        self.assertEqual(read_csv(self.out / "follow_up.csv")[0]["event_date"], "2025-01-10")

    def test_a_value_a_spreadsheet_would_run_as_a_formula_gets_a_leading_apostrophe(self):
        export_cases("csv", self.out)
        acc = next(r for r in read_csv(self.out / "cases.csv") if int(r["case_id"]) == self.acc.id)
        self.assertEqual(acc["trial_identifier"], "'" + FORMULA)
        self.assertEqual(neutralised("@SUM(A1)"), "'@SUM(A1)")
        self.assertEqual(neutralised("+33 1 23"), "'+33 1 23")
        self.assertEqual(neutralised("-2+3"), "'-2+3")
        self.assertEqual(neutralised("-12.5"), "-12.5")
        self.assertEqual(neutralised("8370/3"), "8370/3")

    def test_a_case_whose_consent_was_withdrawn_is_left_out(self):
        export_cases("csv", self.out)
        ids = {int(r["case_id"]) for r in read_csv(self.out / "cases.csv")}
        self.assertNotIn(self.withdrawn.id, ids)

    def test_a_users_export_holds_only_the_cases_in_their_scope(self):
        export_cases("csv", self.out, user=self.dm_paris)
        rows = read_csv(self.out / "cases.csv")
        self.assertEqual([int(r["case_id"]) for r in rows], [self.french.id])
        self.assertEqual(read_csv(self.out / "treatment.csv"), [])


class DatapackageTests(ExportTestCase):
    def test_the_data_package_validates_with_frictionless(self):
        import frictionless

        written = export_cases("datapackage", self.out)
        self.assertEqual(written[-1], self.out / "datapackage.json")
        report = frictionless.validate(str(self.out / "datapackage.json"))
        self.assertTrue(report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"]))

    def test_its_table_schema_is_generated_from_the_dictionary(self):
        export_cases("datapackage", self.out)
        package = json.loads((self.out / "datapackage.json").read_text())
        resources = {r["name"]: r for r in package["resources"]}
        self.assertEqual(list(resources), ["cases", "treatment", "follow_up"])
        cases = {f["name"]: f for f in resources["cases"]["schema"]["fields"]}
        sex = next(f for f in self.dictionary.form_by_code["registration"].fields if f.code == "sex")
        self.assertEqual(cases["sex"]["constraints"]["enum"], [c.code for c in sex.choices])
        self.assertEqual(cases["sex"]["title"], "Sex")
        self.assertEqual(cases["diagnosis_date"]["type"], "date")
        self.assertEqual(cases["in_clinical_trial"]["type"], "boolean")
        self.assertEqual(cases["acc_tumour_weight_g"]["type"], "number")
        self.assertTrue(cases["pseudonym"]["constraints"]["required"])
        self.assertNotIn("constraints", cases["diagnosis_date"])  # required by the dictionary, absent once erased
        treatment = resources["treatment"]["schema"]
        cycles = next(f for f in treatment["fields"] if f["name"] == "chemo_cycles")
        self.assertEqual((cycles["type"], cycles["constraints"]), ("integer", {"minimum": 1, "maximum": 50}))
        self.assertEqual(resources["cases"]["schema"]["primaryKey"], ["case_id"])
        self.assertEqual(treatment["primaryKey"], ["case_id", "instance"])
        self.assertEqual(treatment["foreignKeys"][0]["reference"], {"resource": "cases", "fields": "case_id"})


class RedcapExportTests(ExportTestCase):
    def test_every_column_of_the_records_is_a_variable_of_the_data_dictionary(self):
        export_cases("redcap", self.out)
        variables = read_csv(self.out / "data_dictionary.csv")
        self.assertEqual(list(variables[0])[:2], ["Variable / Field Name", "Form Name"])
        allowed = {"redcap_repeat_instrument", "redcap_repeat_instance", "redcap_data_access_group"}
        for v in variables:
            name = v["Variable / Field Name"]
            if v["Field Type"] == "checkbox":
                codes = [part.split(",")[0].strip() for part in v["Choices, Calculations, OR Slider Labels"].split("|")]
                allowed |= {f"{name}___{checkbox_suffix(code)}" for code in codes}
            else:
                allowed.add(name)
        with (self.out / "records.csv").open(encoding="utf-8") as handle:
            header = next(csv.reader(handle))
        self.assertEqual(header[:3], ["record_id", "redcap_repeat_instrument", "redcap_repeat_instance"])
        self.assertEqual(set(header) - allowed, set())
        self.assertIn("metastasis_sites___lung", header)

    def test_records_are_one_row_per_case_and_one_per_repeating_instance(self):
        export_cases("redcap", self.out)
        rows = [r for r in read_csv(self.out / "records.csv") if r["record_id"] == str(self.acc.id)]
        self.assertEqual(
            [(r["redcap_repeat_instrument"], r["redcap_repeat_instance"]) for r in rows],
            [("", ""), ("treatment", "1"), ("treatment", "2"), ("follow_up", "1")],
        )
        case, _surgery, chemo, relapse = rows
        self.assertEqual(case["pseudonym"], self.acc.patient.pseudonym)
        self.assertEqual(case["diagnosis_date"], "2024-02-10")
        self.assertEqual((case["metastasis_sites___lung"], case["metastasis_sites___liver"]), ("1", "0"))
        self.assertEqual((case["in_clinical_trial"], case["acc_virilisation"]), ("1", "1"))
        self.assertEqual(case["trial_identifier"], "'" + FORMULA)  # a spreadsheet opens records.csv too
        self.assertEqual((case["line_type"], case["chemo_agents___cisplatin"]), ("", ""))
        self.assertEqual(
            (chemo["line_type"], chemo["chemo_agents___cisplatin"], chemo["chemo_cycles"]), ("chemotherapy", "1", "4")
        )
        self.assertEqual((chemo["sex"], chemo["metastasis_sites___lung"]), ("", ""))
        self.assertEqual((relapse["event_date"], relapse["relapse_sites___liver"]), ("2025-01-10", "1"))

    def test_the_data_dictionary_is_the_one_the_dictionary_writes_with_the_identifier_at_the_source(self):
        export_cases("redcap", self.out)
        written = (self.out / "data_dictionary.csv").read_text(encoding="utf-8").splitlines()
        expected = redcap.to_csv(self.dictionary.forms, "en").splitlines()
        self.assertEqual(
            written[2].split(",")[:5], ["external_id", "registration", "", "text", "Identifier at the source"]
        )
        self.assertEqual(written[:2] + written[3:], expected)

    def test_each_record_names_its_centre_as_data_access_group_and_its_identifier_at_the_source(self):
        TumourCase.objects.filter(pk=self.acc.pk).update(external_id="PD-2024-17")
        export_cases("redcap", self.out)
        rows = read_csv(self.out / "records.csv")
        case = next(r for r in rows if r["record_id"] == str(self.acc.id) and not r["redcap_repeat_instrument"])
        self.assertEqual((case["redcap_data_access_group"], case["external_id"]), ("it_pd", "PD-2024-17"))
        french = next(r for r in rows if r["record_id"] == str(self.french.id))
        self.assertEqual((french["redcap_data_access_group"], french["external_id"]), ("fr_pa", ""))


class ExportLogTests(ExportTestCase):
    def test_every_export_writes_one_row_with_the_case_ids(self):
        export_cases("csv", self.out)
        export_cases("redcap", self.root / "redcap", user=self.dm_padova, destination="download")
        registry, person = ExportLog.objects.order_by("id")
        self.assertEqual((registry.user, registry.format, registry.case_count), (None, "csv", 3))
        self.assertEqual(registry.case_ids, sorted([self.acc.id, self.melanoma.id, self.french.id]))
        self.assertEqual(registry.destination, str(self.out.resolve()))
        self.assertEqual((person.user, person.format, person.case_ids), (self.dm_padova, "redcap", [self.acc.id]))
        self.assertEqual(person.destination, "download")

    def test_a_users_export_is_a_read_of_every_case_exported(self):
        export_cases("datapackage", self.out, user=self.nc_italy)
        reads = AccessLog.objects.filter(user=self.nc_italy)
        self.assertEqual(sorted(reads.values_list("case_id", flat=True)), sorted([self.acc.id, self.melanoma.id]))
        self.assertEqual(set(reads.values_list("channel", "what")), {(AccessLog.Channel.WEB, "export datapackage")})

    def test_the_registrys_own_export_is_logged_without_a_reader(self):
        export_cases("csv", self.out)
        self.assertFalse(AccessLog.objects.exists())

    def test_the_log_is_append_only(self):
        export_cases("csv", self.out)
        row = ExportLog.objects.get()
        row.case_count = 0
        with self.assertRaises(PermissionError):
            row.save()
        with self.assertRaises(PermissionError):
            row.delete()
        with self.assertRaises(PermissionError):
            ExportLog.objects.all().delete()
        with self.assertRaises(PermissionError):
            ExportLog.objects.update(case_count=0)


class ExportCommandTests(ExportTestCase):
    def export(self, *args: str) -> str:
        out = io.StringIO()
        call_command("export", *args, stdout=out)
        return out.getvalue()

    def test_it_exports_every_case_and_prints_what_it_wrote(self):
        printed = self.export("datapackage", "--out", str(self.out))
        self.assertIn(str(self.out / "datapackage.json"), printed)
        self.assertIn("4 files written", printed)
        self.assertIsNone(ExportLog.objects.get().user)

    def test_case_narrows_the_export(self):
        self.export("csv", "--case", str(self.melanoma.id), "--case", str(self.french.id), "--out", str(self.out))
        ids = [int(r["case_id"]) for r in read_csv(self.out / "cases.csv")]
        self.assertEqual(sorted(ids), sorted([self.melanoma.id, self.french.id]))
        self.assertEqual(ExportLog.objects.get().case_ids, sorted(ids))

    def test_an_unknown_case_is_a_clear_error_and_nothing_is_written(self):
        with self.assertRaisesMessage(CommandError, "case 999999: no such case"):
            self.export("csv", "--case", str(self.acc.id), "--case", "999999", "--out", str(self.out))
        self.assertFalse(self.out.exists())
        self.assertFalse(ExportLog.objects.exists())

    def test_a_withdrawn_case_asked_for_by_id_is_refused(self):
        with self.assertRaisesMessage(CommandError, f"case {self.withdrawn.id}: consent withdrawn"):
            self.export("redcap", "--case", str(self.withdrawn.id), "--out", str(self.out))

    def test_an_out_path_that_is_a_file_is_a_clear_error(self):
        self.out.write_text("not a folder")
        with self.assertRaisesMessage(CommandError, "is a file"):
            self.export("csv", "--out", str(self.out))
        self.assertEqual(self.out.read_text(), "not a folder")

    def test_a_case_outside_a_users_scope_is_unknown_to_them(self):
        with self.assertRaisesMessage(ExportError, "no such case in your scope"):
            export_cases("csv", self.out, user=self.dm_paris, case_ids=[self.acc.id])


class AllOrNothingTests(ExportTestCase):
    def failing_after_the_first_file(self):
        real = exporting._write
        calls = []

        def write(*args, **kwargs):
            calls.append(args[0])
            if len(calls) == 2:
                raise OSError("disk full")
            return real(*args, **kwargs)

        return mock.patch.object(exporting, "_write", side_effect=write)

    def test_a_failure_while_writing_leaves_no_partial_folder(self):
        with self.failing_after_the_first_file(), self.assertRaises(OSError):
            export_cases("datapackage", self.out)
        self.assertFalse(self.out.exists())
        self.assertEqual(list(self.root.iterdir()), [])
        self.assertFalse(ExportLog.objects.exists())

    def test_a_failure_leaves_an_earlier_export_in_the_folder_as_it_was(self):
        export_cases("csv", self.out, user=self.dm_paris)
        before = {p.name: p.read_bytes() for p in self.out.iterdir()}
        with self.failing_after_the_first_file(), self.assertRaises(OSError):
            export_cases("csv", self.out)
        self.assertEqual({p.name: p.read_bytes() for p in self.out.iterdir()}, before)
        self.assertEqual([p.name for p in self.root.iterdir()], ["export"])
        self.assertEqual(ExportLog.objects.count(), 1)

    def test_a_new_export_into_an_existing_folder_replaces_its_files(self):
        export_cases("csv", self.out, user=self.dm_paris)
        export_cases("csv", self.out)
        self.assertEqual(len(read_csv(self.out / "cases.csv")), 3)
