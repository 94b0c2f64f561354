"""A date known to the month or the year leaves the registry with its precision and comes back with it."""

import csv
import json
import tempfile
from pathlib import Path

from django.db import transaction
from frictionless import validate
from openpyxl import Workbook

from partner.cases.models import Status, TumourCase
from partner.dictionary import redcap
from partner.interop.api_hub import as_table
from partner.interop.exporting import export_cases
from partner.interop.fhir import case_bundle
from partner.interop.hub import case_payload
from partner.interop.importing import import_cases
from partner.interop.phenopackets import case_phenopacket, partial_of_interval
from partner.interop.tables import read_table
from partner.quality.receivers import deferred
from partner.testing import case_forms

from .test_fhir_roundtrip import RoundTripTestCase

#: Stored values that every format must give back as they are.
PARTIAL = {
    ("registration", "first_contact_date"): "2024",
    ("diagnosis", "onset_date"): "2023-11",
    ("treatment", "treatment_start_date"): "2024-02",
    ("treatment", "treatment_end_date"): "2024",
    ("follow_up", "event_date"): "2024-09",
}


def partial_forms():
    return case_forms(
        registration={"date_of_birth": "2012-05-04", "sex": "female", "first_contact_date": "2024"},
        diagnosis={
            "diagnosis_date": "2024-02-10",
            "onset_date": "2023-11",
            "morphology": "8370/3",
            "topography": "C74.0",
            "basis_of_diagnosis": "7",
        },
        treatment=[
            {"line_type": "surgery", "treatment_start_date": "2024-02", "surgery_type": "biopsy_open"},
            {
                "line_type": "chemotherapy",
                "treatment_start_date": "2024-03-04",
                "treatment_end_date": "2024",
                "chemo_agents": ["cisplatin"],
            },
        ],
        follow_up=[{"event_type": "relapse", "event_date": "2024-09", "relapse_type": "local"}],
        status={"patient_status": "alive", "last_contact_date": "2025-01-10"},
        consent={"consent_reuse": "given", "consent_date": "2024-02-12"},
    )


class PartialDatesTestCase(RoundTripTestCase):
    def stored(self, case):
        return {(r.form.code, r.number): r.values for r in case.records.select_related("form")}

    def assert_partial_dates_kept(self, case):
        records = self.stored(case)
        self.assertEqual(records["registration", 1]["first_contact_date"], "2024")
        self.assertEqual(records["diagnosis", 1]["onset_date"], "2023-11")
        self.assertEqual(records["treatment", 1]["treatment_start_date"], "2024-02")
        self.assertEqual(records["treatment", 2]["treatment_start_date"], "2024-03-04")
        self.assertEqual(records["treatment", 2]["treatment_end_date"], "2024")
        self.assertEqual(records["follow_up", 1]["event_date"], "2024-09")

    def export(self, fmt):
        folder = Path(tempfile.mkdtemp())
        export_cases(fmt, folder / "out")
        return folder / "out"


class FhirTests(PartialDatesTestCase):
    def test_fhir_carries_a_year_month_and_a_year_natively_and_reads_them_back(self):
        with transaction.atomic():
            bundle = json.dumps(case_bundle(self.registered("partial", partial_forms(), Status.SUBMITTED)))
            transaction.set_rollback(True)
        self.assertIn('"onsetDateTime": "2023-11"', bundle)
        self.assertIn('"start": "2024-02"', bundle)
        self.round_trip({"partial-fhir": partial_forms()}, Status.SUBMITTED)
        self.assert_partial_dates_kept(TumourCase.objects.get(external_id="partial-fhir"))


class HubTests(PartialDatesTestCase):
    def test_a_push_to_the_hub_keeps_each_dates_precision(self):
        with transaction.atomic():
            payload = json.loads(
                json.dumps(case_payload(self.registered("partial-hub", partial_forms(), "submitted"), self.dictionary))
            )
            transaction.set_rollback(True)
        with deferred():
            result = import_cases(as_table([payload], "push"), user=self.european, status="submitted")
        self.assertTrue(result.committed, [str(p) for p in result.problems])
        self.assert_partial_dates_kept(TumourCase.objects.get())


class CsvAndSheetTests(PartialDatesTestCase):
    COLUMNS = {
        "external_id": "T-1",
        "centre": "IT-PD",
        "given_names": "Giulia",
        "family_names": "Verdi",
        "date_of_birth": "2012-05-04",
        "sex": "female",
        "country_of_birth": "IT",
        "first_contact_date": "2024",
        "diagnosis_date": "2024-02-10",
        "onset_date": "2023-11",
        "morphology": "8370/3",
        "topography": "C74.0",
        "basis_of_diagnosis": "7",
        "treatment.1.line_type": "surgery",
        "treatment.1.surgery_type": "biopsy_open",
        "treatment.1.treatment_start_date": "2024-02",
        "treatment.2.line_type": "chemotherapy",
        "treatment.2.treatment_start_date": "2024-03-04",
        "treatment.2.treatment_end_date": "2024",
        "treatment.2.chemo_agents": "cisplatin",
        "follow_up.1.event_type": "relapse",
        "follow_up.1.event_date": "2024-09",
        "follow_up.1.relapse_type": "local",
        "patient_status": "alive",
        "last_contact_date": "2025-01-10",
        "consent_reuse": "given",
        "consent_date": "2024-02-12",
    }

    def imported(self, path):
        with deferred():
            result = import_cases(read_table(path), user=self.european, status="submitted")
        self.assertTrue(result.committed, [str(p) for p in result.problems])
        return TumourCase.objects.get(external_id="T-1")

    def test_a_csv_brings_partial_dates_in_and_the_export_gives_them_back_as_written(self):
        path = Path(tempfile.mkdtemp()) / "cases.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([list(self.COLUMNS), list(self.COLUMNS.values())])
        self.assert_partial_dates_kept(self.imported(path))
        out = self.export("csv")
        cases = list(csv.DictReader((out / "cases.csv").open(encoding="utf-8")))
        self.assertEqual((cases[0]["first_contact_date"], cases[0]["onset_date"]), ("2024", "2023-11"))
        self.assertEqual(cases[0]["diagnosis_date"], "2024-02-10")
        lines = list(csv.DictReader((out / "treatment.csv").open(encoding="utf-8")))
        self.assertEqual(
            [(x["treatment_start_date"], x["treatment_end_date"]) for x in lines],
            [("2024-02", ""), ("2024-03-04", "2024")],
        )
        events = list(csv.DictReader((out / "follow_up.csv").open(encoding="utf-8")))
        self.assertEqual(events[0]["event_date"], "2024-09")

    def test_a_sheet_keeps_a_partial_date_typed_as_text(self):
        book = Workbook()
        sheet = book.active
        sheet.append(list(self.COLUMNS))
        sheet.append(list(self.COLUMNS.values()))
        path = Path(tempfile.mkdtemp()) / "cases.xlsx"
        book.save(path)
        self.assert_partial_dates_kept(self.imported(path))

    def test_a_partial_date_where_a_full_one_is_needed_is_refused_naming_row_and_column(self):
        path = Path(tempfile.mkdtemp()) / "cases.csv"
        row = self.COLUMNS | {"diagnosis_date": "2024-02"}
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows([list(row), list(row.values())])
        with deferred():
            result = import_cases(read_table(path), user=self.european, status="submitted")
        self.assertFalse(result.committed)
        problem = next(p for p in result.problems if p.column == "diagnosis_date")
        self.assertEqual(problem.row, 2)
        self.assertIn("needs a full date", problem.message)


class DataPackageAndRedcapTests(PartialDatesTestCase):
    def setUp(self):
        self.registered("partial", partial_forms(), Status.SUBMITTED)

    def test_the_data_package_types_a_partial_date_column_so_that_it_validates(self):
        out = self.export("datapackage")
        descriptor = json.loads((out / "datapackage.json").read_text())
        fields = {(r["name"], f["name"]): f for r in descriptor["resources"] for f in r["schema"]["fields"]}
        onset = fields["cases", "onset_date"]
        self.assertEqual((onset["type"], onset["constraints"]["pattern"]), ("string", r"\d{4}(-\d{2}(-\d{2})?)?"))
        self.assertEqual(fields["cases", "diagnosis_date"]["type"], "date")
        report = validate(out / "datapackage.json")
        self.assertTrue(report.valid, report.flatten(["rowNumber", "fieldName", "note"]))
        lines = list(csv.DictReader((out / "treatment.csv").open(encoding="utf-8")))
        self.assertEqual(lines[0]["treatment_start_date"], "2024-02")

    def test_redcap_takes_a_partial_date_field_as_text_saying_its_shape_and_the_records_keep_it(self):
        out = self.export("redcap")
        rows = {row[0]: row for row in csv.reader((out / "data_dictionary.csv").open(encoding="utf-8"))}
        onset, diagnosed = rows["onset_date"], rows["diagnosis_date"]
        self.assertEqual((onset[3], onset[7]), ("text", ""))
        self.assertIn(redcap.PARTIAL_DATE_NOTE, onset[6])
        self.assertIn("partial date (day, month, year)", onset[17])
        self.assertEqual((diagnosed[3], diagnosed[7]), ("text", "date_ymd"))
        records = list(csv.DictReader((out / "records.csv").open(encoding="utf-8")))
        case = next(r for r in records if not r["redcap_repeat_instrument"])
        self.assertEqual((case["onset_date"], case["first_contact_date"]), ("2023-11", "2024"))
        lines = [r for r in records if r["redcap_repeat_instrument"] == "treatment"]
        self.assertEqual([r["treatment_start_date"] for r in lines], ["2024-02", "2024-03-04"])


class PhenopacketTests(PartialDatesTestCase):
    def test_a_month_of_treatment_is_the_interval_of_that_month_and_reads_back_as_it(self):
        packet = case_phenopacket(self.registered("partial", partial_forms(), Status.SUBMITTED))
        performed = [a["procedure"]["performed"] for a in packet["medicalActions"] if "procedure" in a]
        self.assertEqual(performed[0]["interval"], {"start": "2024-02-01T00:00:00Z", "end": "2024-02-29T00:00:00Z"})
        self.assertEqual(partial_of_interval(performed[0]["interval"]), "2024-02")
        self.assertEqual(partial_of_interval({"start": "2024-01-01T00:00:00Z", "end": "2024-12-31T00:00:00Z"}), "2024")
        self.assertIsNone(partial_of_interval({"start": "2024-01-03T00:00:00Z", "end": "2024-12-31T00:00:00Z"}))

    def test_an_onset_known_to_the_month_is_an_age_range(self):
        packet = case_phenopacket(self.registered("partial", partial_forms(), Status.SUBMITTED))
        onset = packet["diseases"][0]["onset"]
        self.assertEqual(
            onset, {"ageRange": {"start": {"iso8601duration": "P11Y5M28D"}, "end": {"iso8601duration": "P11Y6M26D"}}}
        )
