"""The registry's exports import back: export, import into an empty registry with the same centres,
export again, and every value of every case, treatment line and follow-up event is the same.

What differs, by design: the registry-assigned identifiers (case_id, child_id; REDCap's record_id)
and the status (cases come in as the import says: here drafts; a coordinator validates them again).
"""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

from django.conf import settings
from django.test import TestCase
from openpyxl import Workbook

from partner.cases.demo import generate
from partner.cases.models import Patient, Status, TumourCase
from partner.dictionary.loader import get_dictionary, load_bundled
from partner.interop.export_tables import read_cases
from partner.interop.exporting import export_cases
from partner.interop.importing import ImportResult, import_cases

ASSIGNED = {"case_id", "child_id", "status", "record_id"}
FORMS = ("treatment", "follow_up")


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def pooled(folder: Path) -> dict[tuple[str, ...], dict[str, str]]:
    """Every row of a pooled CSV export, keyed by what the registry does not assign: centre, identifier, line."""
    cases = rows(folder / "cases.csv")
    key = {r["case_id"]: (r["centre"], r["external_id"]) for r in cases}
    out = {("cases", *key[r["case_id"]]): r for r in cases}
    for form in FORMS:
        out.update({(form, *key[r["case_id"]], r["instance"]): r for r in rows(folder / f"{form}.csv")})
    return out


def records(folder: Path) -> dict[tuple[str, ...], dict[str, str]]:
    found = rows(folder / "records.csv")
    key = {r["record_id"]: (r["redcap_data_access_group"], r["external_id"]) for r in found if r["external_id"]}
    return {(*key[r["record_id"]], r["redcap_repeat_instrument"], r["redcap_repeat_instance"]): r for r in found}


class DemoRoundTripTests(TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        from partner.quality.receivers import deferred

        load_bundled()
        with deferred():
            for _number, _error in generate(get_dictionary(), patients=40, seed=7, key=settings.PSEUDONYM_KEY):
                pass

    def setUp(self) -> None:
        self.tmp = Path(self.enterContext(tempfile.TemporaryDirectory()))

    def empty_and_import(self, path: Path) -> ImportResult:
        """The registry emptied of cases (its centres kept), then `path` imported into it."""
        count = TumourCase.objects.count()
        TumourCase.objects.all().delete()
        Patient.objects.all().delete()
        result = import_cases(read_cases(path, get_dictionary()), status=Status.DRAFT)
        self.assertEqual([(p.file, p.row, p.column, p.message) for p in result.errors], [])
        self.assertTrue(result.committed)
        self.assertEqual((result.created, TumourCase.objects.count()), (count, count))
        return result

    def assertSameValues(self, first: dict, again: dict) -> None:
        """The same rows, each column but the receiving registry's own with the same value."""
        self.assertEqual(sorted(again), sorted(first))
        differences = {
            (key, column): (value, again[key][column])
            for key, row in first.items()
            for column, value in row.items()
            if column not in ASSIGNED and again[key][column] != value
        }
        self.assertEqual(differences, {})

    def assertSameRows(self, first: dict, again: dict) -> None:
        self.assertSameValues(first, again)
        statuses = {row["status"] for key, row in again.items() if key[0] == "cases"}
        self.assertLessEqual(statuses, {Status.DRAFT})

    def test_the_pooled_csv_export_imports_back_value_for_value(self) -> None:
        export_cases("csv", self.tmp / "first")
        first = pooled(self.tmp / "first")
        self.assertTrue(all(k[2].startswith("DEMO-7-") for k in first), "the identifiers at the source travel")
        self.assertGreater(sum(k[0] == "treatment" for k in first), 40)
        self.empty_and_import(self.tmp / "first")
        export_cases("csv", self.tmp / "again")
        self.assertSameRows(first, pooled(self.tmp / "again"))

    def test_the_pooled_csv_saved_as_a_workbook_imports_back_value_for_value(self) -> None:
        export_cases("datapackage", self.tmp / "first")
        book = Workbook()
        book.remove(book.active)
        for name in ("cases", *FORMS):
            sheet = book.create_sheet(name)
            with (self.tmp / "first" / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
                for line in csv.reader(handle):
                    sheet.append([cell or None for cell in line])
        book.save(self.tmp / "cases.xlsx")
        self.empty_and_import(self.tmp / "cases.xlsx")
        export_cases("csv", self.tmp / "again")
        self.assertSameRows(pooled(self.tmp / "first"), pooled(self.tmp / "again"))

    def test_the_redcap_records_import_back_value_for_value(self) -> None:
        export_cases("redcap", self.tmp / "first")
        self.empty_and_import(self.tmp / "first" / "records.csv")
        export_cases("redcap", self.tmp / "again")
        first, again = records(self.tmp / "first"), records(self.tmp / "again")
        self.assertSameValues(first, again)
