"""The bulk import stores exactly what storing each case through `create_case` stores.

The same files (a first import with identities, pseudonyms and linkage encodings, repeating forms
and tumour-module values; a file with errors; a re-import that updates some cases and adds others;
a dry run) go through both paths, one after the other from the same registry, and every table the
import writes is compared row for row, ids replaced by what they point to: patients, cases, form
records, their history rows (type, user, reason, values), quality findings and their history,
linkage encodings, access logs and candidate pairs; with the reports, the counts, the rows yielded
to the progress bar and the `case_changed` signals sent.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import tempfile
from pathlib import Path
from typing import Any
from unittest import mock

from django.conf import settings
from django.db import transaction

from partner.accounts.models import Centre
from partner.cases.models import AccessLog, FormRecord, Patient, TumourCase
from partner.cases.signals import case_changed
from partner.interop.importing import GC_THRESHOLD, ImportResult, import_cases, iter_import
from partner.interop.tables import Table, read_table
from partner.lib.pseudonym import Identity, pseudonym
from partner.linkage.encoding import Encoder, to_text
from partner.linkage.models import CandidatePair, LinkageKey
from partner.quality.models import Finding
from partner.testing import RegistryTestCase

FIRST = [
    "external_id",
    "centre",
    "pseudonym",
    "linkage_encoding",
    "given_names",
    "family_names",
    "date_of_birth",
    "sex",
    "country_of_birth",
    "diagnosis_date",
    "morphology",
    "topography",
    "basis_of_diagnosis",
    "laterality",
    "metastatic_at_diagnosis",
    "patient_status",
    "last_contact_date",
    "consent_reuse",
    "consent_date",
    "acc_weiss_score",
    "treatment.1.line_type",
    "treatment.1.treatment_start_date",
    "treatment.1.surgery_type",
    "treatment.1.resection_margin",
    "treatment.2.line_type",
    "treatment.2.treatment_start_date",
    "treatment.2.treatment_end_date",
    "follow_up.1.event_type",
    "follow_up.1.event_date",
    "follow_up.1.disease_status",
]
AGAIN = [
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
    "treatment.1.line_type",
    "treatment.1.treatment_start_date",
    "treatment.1.treatment_end_date",
    "treatment.1.rt_technique",
    "follow_up.1.event_type",
    "follow_up.1.event_date",
]
CHILDREN = 200
ROWS = 240  # rows 200-239 register children 0-39 a second time, at the same or the other centre
SITES = [("8370/3", "C74.0"), ("8370/3", "C74.9"), ("8372/3", "C74.0")]
OTHER_SITES = [("8936/3", "C16.2"), ("9050/3", "C38.4"), ("8140/3", "C18.7"), ("8370/3", "C74.0")]


def child(i: int) -> Identity:
    n = i % CHILDREN
    born = dt.date(2004 + n % 12, 1 + n % 12, 1 + n % 28)
    return Identity(f"Child{n}", f"Family{n % 150}", born, "female" if n % 2 else "male", "IT")


def day(start: dt.date, days: int) -> str:
    return (start + dt.timedelta(days=days)).isoformat()


def first_row(i: int) -> dict[str, str]:
    person = child(i)
    diagnosed = person.date_of_birth + dt.timedelta(days=365 * (3 + i % 6) + i % 50)
    morphology, topography = SITES[i % len(SITES)]
    row = {
        "external_id": f"E-{i:04d}",
        "centre": "IT-MI" if i % 3 == 0 else "IT-PD",
        "given_names": person.given_names,
        "family_names": person.family_names,
        "date_of_birth": person.date_of_birth.isoformat(),
        "sex": person.sex,
        "country_of_birth": person.country_of_birth,
        "diagnosis_date": diagnosed.isoformat(),
        "morphology": morphology,
        "topography": topography,
        "basis_of_diagnosis": "7",
        "laterality": "left" if i % 2 else "right",
        "metastatic_at_diagnosis": "no",
        "patient_status": "alive",
        # Every 37th child was last seen before the diagnosis: a quality error, kept in a draft.
        "last_contact_date": day(diagnosed, -20 if i % 37 == 0 else 400),
        "consent_reuse": "given",
        "consent_date": diagnosed.isoformat(),
        "acc_weiss_score": "" if i % 4 == 0 else str(i % 9),  # under 3: a query on the module
        "treatment.1.line_type": "surgery",
        "treatment.1.treatment_start_date": day(diagnosed, 10),
        "treatment.1.surgery_type": "resection_primary",
        "treatment.1.resection_margin": "R0" if i % 5 else "R1",
    }
    if i % 2 == 0:
        row["treatment.2.line_type"] = "chemotherapy"
        row["treatment.2.treatment_start_date"] = day(diagnosed, 40)
        row["treatment.2.treatment_end_date"] = day(diagnosed, 160)
    if i % 3 == 0:
        row["follow_up.1.event_type"] = "response_assessment"
        row["follow_up.1.event_date"] = day(diagnosed, 200)
        row["follow_up.1.disease_status"] = "no_evidence"
    if i % 10 == 5 and i < CHILDREN:
        # A node's row: the pseudonym made offline, with its encoding every other time; the names stay home.
        row["pseudonym"] = pseudonym(person, settings.PSEUDONYM_KEY)
        if i % 20 == 5:  # typed at the node with a slip, so that it differs from the one made here by name
            slip = Identity(person.given_names, person.family_names + "e", person.date_of_birth, person.sex, "IT")
            row["linkage_encoding"] = to_text(Encoder(settings.LINKAGE_KEY).encode_identity(slip))
        row["given_names"] = row["family_names"] = row["country_of_birth"] = ""
    return row


def again_row(i: int) -> dict[str, str]:
    """Rows 0-59 of the first file again (some changed, some as they were), then new cases."""
    if i >= 1000:
        person = child(i - 1000 + (0 if i % 4 else 100))  # every fourth: a child already registered
        diagnosed = person.date_of_birth + dt.timedelta(days=365 * 6 + i % 40)
        morphology, topography = OTHER_SITES[i % len(OTHER_SITES)]
        last_contact = day(diagnosed, 300)
    else:
        person = child(i)
        first = first_row(i)
        diagnosed = dt.date.fromisoformat(first["diagnosis_date"])
        morphology, topography = first["morphology"], first["topography"]
        # Some are seen again; the children last seen before their diagnosis are corrected.
        last_contact = day(diagnosed, 500) if i % 3 == 0 or i % 37 == 0 else first["last_contact_date"]
    row = {
        "external_id": f"E-{i:04d}",
        "centre": "IT-MI" if i % 3 == 0 else "IT-PD",
        "given_names": person.given_names,
        "family_names": person.family_names,
        "date_of_birth": person.date_of_birth.isoformat(),
        "sex": person.sex,
        "country_of_birth": person.country_of_birth,
        "diagnosis_date": diagnosed.isoformat(),
        "morphology": morphology,
        "topography": topography,
        "basis_of_diagnosis": "7",
        "patient_status": "alive",
        "last_contact_date": last_contact,
        "consent_reuse": "given",
        "consent_date": diagnosed.isoformat(),
    }
    if i >= 1000 and i % 2:
        row["treatment.1.line_type"] = "radiotherapy"
        row["treatment.1.treatment_start_date"] = day(diagnosed, 60)
        row["treatment.1.treatment_end_date"] = day(diagnosed, 90)
        row["treatment.1.rt_technique"] = "protons" if i % 3 else "photons"
    if i % 5 == 2:  # a first follow-up event, or the first one changed
        row["follow_up.1.event_type"] = "vital_status_update"
        row["follow_up.1.event_date"] = day(diagnosed, 250)
    return row


def bad_rows() -> list[dict[str, str]]:
    """A file with errors of every kind, among good new rows and good updates."""
    good = [first_row(i) for i in range(300, 306)]
    for row in good:
        row["external_id"] = row["external_id"].replace("E-", "N-")
    update = first_row(7) | {"last_contact_date": day(dt.date.fromisoformat(first_row(7)["diagnosis_date"]), 600)}
    return [
        good[0],
        first_row(301) | {"external_id": "B-1", "centre": "IT-XX"},  # no such centre
        first_row(302) | {"external_id": "B-2", "date_of_birth": "2010-02-31"},  # no such date
        first_row(303) | {"external_id": "B-3", "morphology": "8370", "basis_of_diagnosis": "99"},
        first_row(307) | {"external_id": "B-6", "sex": "x"},  # no such sex: it would derive another pseudonym
        good[1],
        first_row(304) | {"external_id": "B-4", "diagnosis_date": "2003-01-01"},  # before birth
        update,
        good[2] | {"external_id": good[1]["external_id"]},  # the same case twice in one file
        first_row(11) | {"given_names": "Someone", "family_names": "Else"},  # another child under E-0011
        first_row(13) | {"treatment.1.line_type": "teleportation"},  # an update with a wrong value
        first_row(305) | {"external_id": "B-5", "acc_weiss_score": "12", "morphology": "8720/3"},  # module
        good[3],
        first_row(306) | {"external_id": "", "centre": ""},
        good[4],
    ]


class BulkImportTests(RegistryTestCase):
    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp())

    def table(self, name: str, columns: list[str], rows: list[dict[str, str]]) -> Table:
        path = self.tmp / name
        lines = [",".join(columns)] + [",".join(row.get(c, "") for c in columns) for row in rows]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return read_table(path)

    def files(self) -> list[tuple[str, Table, dict[str, Any]]]:
        return [
            ("first", self.table("first.csv", FIRST, [first_row(i) for i in range(ROWS)]), {"user": self.nc_italy}),
            ("bad", self.table("bad.csv", FIRST, bad_rows()), {"user": self.nc_italy, "status": "draft"}),
            (
                "again",
                self.table("again.csv", AGAIN, [again_row(i) for i in [*range(60), *range(1000, 1040)]]),
                {"status": "submitted"},
            ),
            (
                "dry run",
                self.table("dry.csv", AGAIN, [again_row(i) for i in range(1040, 1060)]),
                {"dry_run": True, "status": "submitted"},
            ),
        ]

    def run_files(self, bulk: bool) -> list[Any]:
        """Import every file in turn; what each reported and yielded, and the registry after it."""
        sent: list[tuple[str, str, Any]] = []

        def record(sender: Any, case: TumourCase, user: Any = None, **kwargs: Any) -> None:
            sent.append((case.centre.code, case.external_id, getattr(user, "username", None)))

        case_changed.connect(record, dispatch_uid="test-bulk-import")
        try:
            seen = []
            for name, table, options in self.files():
                sent.clear()
                steps = iter_import(table, bulk=bulk, status=options.pop("status", "draft"), **options)
                yielded = []
                while True:
                    try:
                        yielded.append(next(steps))
                    except StopIteration as done:
                        result: ImportResult = done.value
                        break
                seen.append((name, outcome(result), yielded, sorted(sent), registry()))
            return seen
        finally:
            case_changed.disconnect(dispatch_uid="test-bulk-import")

    def both_paths(self, chunk: int) -> tuple[list[Any], list[Any]]:
        with transaction.atomic():
            row_by_row = self.run_files(bulk=False)
            transaction.set_rollback(True)
        with mock.patch("partner.interop.importing.CHUNK", chunk), transaction.atomic():
            bulk = self.run_files(bulk=True)
            transaction.set_rollback(True)
        return row_by_row, bulk

    def assert_same(self, row_by_row: list[Any], bulk: list[Any]) -> None:
        for before, after in zip(row_by_row, bulk, strict=True):
            name = before[0]
            self.assertEqual(before[1], after[1], f"{name}: the results differ")
            self.assertEqual(before[2], after[2], f"{name}: the rows yielded differ")
            self.assertEqual(before[3], after[3], f"{name}: the signals sent differ")
            for table in before[4]:
                self.assertEqual(before[4][table], after[4][table], f"{name}: {table} differs")

    def test_the_bulk_path_stores_what_the_row_by_row_path_stores(self):
        row_by_row, bulk = self.both_paths(chunk=1000)
        self.assert_same(row_by_row, bulk)
        # The files did what they were made for, so that the comparison means something.
        results = {name: result for name, result, _yielded, _sent, _stored in bulk}
        self.assertEqual(results["first"]["counts"], (ROWS, 0, 0, True))
        self.assertEqual(results["bad"]["counts"], (4, 1, 0, False))
        # Rows 0-59 again: changed when seen again (every third), corrected (37) or with a new event (i % 5 == 2).
        self.assertEqual(results["again"]["counts"], (40, 28, 32, True))
        self.assertEqual(results["dry run"]["counts"], (20, 0, 0, False))
        problems = {(p[1], p[4]) for p in results["bad"]["problems"]}
        expected = {("centre", "import"), ("date_of_birth", "import"), ("sex", "import"), ("morphology", "dictionary")}
        self.assertTrue(expected <= problems)
        self.assertIn(("acc", "dictionary"), problems)  # a melanoma given the adrenocortical module
        self.assertIn("belongs to another child", repr(results["bad"]["problems"]))
        self.assertIn("the same case as row", repr(results["bad"]["problems"]))
        first = bulk[0][4]
        self.assertEqual(len(first["Patient"]), CHILDREN)
        self.assertEqual(len(first["TumourCase"]), ROWS)
        # Children 55, 75, ... 195 came only as a pseudonym without an encoding; 15 and 35 came again by name.
        self.assertEqual(len(first["LinkageKey"]), CHILDREN - 8)
        self.assertIn("ACC-WEISS", repr(first["Finding"]))
        self.assertIn("DATE-DX-CONTACT", repr(first["Finding"]))
        histories = {table: len(rows) for table, rows in first.items() if table.startswith("Historical")}
        self.assertEqual(histories["HistoricalTumourCase"], ROWS)
        self.assertGreater(histories["HistoricalFormRecord"], 4 * ROWS)
        again = bulk[2][4]
        types = {json.loads(r)["history_type"] for r in again["HistoricalFormRecord"]}
        self.assertEqual(types, {"+", "~"})
        self.assertIn('"status": "resolved"', repr(again["Finding"]))  # the corrected last contacts
        self.assertEqual(bulk[3][4], again, "a dry run writes nothing")

    def test_chunks_of_a_few_rows_store_the_same(self):
        # The same child across chunks: a patient made by an earlier chunk is found, not made again.
        self.assert_same(*self.both_paths(chunk=7))

    def test_a_closed_import_writes_nothing_and_gives_the_collector_back_its_threshold(self):
        before = gc.get_threshold()
        steps = iter_import(self.table("first.csv", FIRST, [first_row(i) for i in range(30)]), status="draft")
        with mock.patch("partner.interop.importing.CHUNK", 10):
            self.assertEqual([next(steps) for _ in range(15)], list(range(2, 17)))  # one chunk stored
            self.assertEqual(gc.get_threshold()[0], max(before[0], GC_THRESHOLD))
            self.assertEqual(TumourCase.objects.count(), 10)
            steps.close()  # the browser went away
        self.assertEqual(gc.get_threshold(), before)
        self.assertEqual((TumourCase.objects.count(), Patient.objects.count(), LinkageKey.objects.count()), (0, 0, 0))

    def test_an_encoding_that_is_not_one_is_reported_by_row_and_column(self):
        row = first_row(5) | {"linkage_encoding": "not base64!"}
        table = self.table("encoded.csv", FIRST, [first_row(1), row])
        for bulk in (False, True):
            with self.subTest(bulk=bulk):
                result = import_cases(table, status="draft", bulk=bulk)
                self.assertFalse(result.committed)
                [problem] = result.errors
                self.assertEqual((problem.row, problem.column, problem.value), (3, "linkage_encoding", "not base64!"))
                self.assertIn("not a base64 linkage encoding", problem.message)
                self.assertEqual(TumourCase.objects.count(), 0)

    def in_both_paths(self, *steps: tuple[str, list[str], list[dict[str, str]]]) -> list[list[ImportResult]]:
        """Each path imports the files in turn from the same registry; what each import gave, by path."""
        results = []
        for bulk in (False, True):
            with self.subTest(bulk=bulk), transaction.atomic():
                results.append([import_cases(self.table(n, c, r), status="draft", bulk=bulk) for n, c, r in steps])
                lines = {
                    number: values
                    for number, values in FormRecord.objects.filter(
                        case__external_id="E-0002", form__code="treatment"
                    ).values_list("number", "values")
                }
                results[-1].append(lines)  # type: ignore[arg-type]
                transaction.set_rollback(True)
        self.assertEqual([outcome(r) for r in results[0][:-1]], [outcome(r) for r in results[1][:-1]])
        self.assertEqual(results[0][-1], results[1][-1])
        return results

    def test_a_line_of_a_repeating_form_goes_to_the_stored_line_of_its_number(self):
        two = first_row(2)  # surgery on line 1, chemotherapy on line 2
        who = ["external_id", "centre", "given_names", "family_names", "date_of_birth", "sex", "country_of_birth"]
        end = day(dt.date.fromisoformat(two["diagnosis_date"]), 170)
        *_results, lines = self.in_both_paths(
            ("first.csv", FIRST, [two]),
            ("line 2.csv", [*who, "treatment.2.treatment_end_date"], [two | {"treatment.2.treatment_end_date": end}]),
            ("line 3.csv", [*who, "treatment.3.line_type"], [two | {"treatment.3.line_type": "radiotherapy"}]),
        )[1]
        self.assertEqual(lines[1]["line_type"], "surgery")
        self.assertNotIn("treatment_end_date", lines[1])
        self.assertEqual((lines[2]["line_type"], lines[2]["treatment_end_date"]), ("chemotherapy", end))
        self.assertEqual(lines[3]["line_type"], "radiotherapy")

    def test_a_line_after_a_gap_is_refused(self):
        two = first_row(2)
        who = ["external_id", "centre", "given_names", "family_names", "date_of_birth", "sex", "country_of_birth"]
        columns = [c for c in FIRST if not c.startswith("treatment.1.")]
        results = self.in_both_paths(
            ("only line 2.csv", columns, [two]),  # a new case: line 2 without line 1
            ("first.csv", FIRST, [two]),
            ("line 4.csv", [*who, "treatment.4.line_type"], [two | {"treatment.4.line_type": "radiotherapy"}]),
        )[1]
        refused, stored, gap = results[0], results[1], results[2]
        self.assertFalse(refused.committed)
        self.assertEqual([(p.row, p.column) for p in refused.errors], [(2, "treatment.2.line_type")], refused.errors)
        self.assertIn("line 1 is neither in the file nor stored", refused.errors[0].message)
        self.assertTrue(stored.committed)
        self.assertEqual([(p.row, p.column) for p in gap.errors], [(2, "treatment.4.line_type")])
        self.assertIn("line 3 is neither", gap.errors[0].message)
        self.assertEqual(sorted(results[3]), [1, 2])  # type: ignore[call-overload]

    def test_the_empty_module_columns_of_another_tumour_are_left_out(self):
        other = first_row(2) | {"morphology": "9050/3", "topography": "C38.4", "acc_weiss_score": ""}
        results = self.in_both_paths(("mixed.csv", FIRST, [first_row(4), other]))[1]
        self.assertTrue(results[0].committed, results[0].errors)
        self.assertEqual(results[0].created, 2)
        filled = other | {"acc_weiss_score": "4"}
        refused = self.in_both_paths(("filled.csv", FIRST, [first_row(4), filled]))[1][0]
        self.assertEqual([(p.row, p.column) for p in refused.errors], [(3, "acc")])


def outcome(result: ImportResult) -> dict[str, Any]:
    return {
        "counts": (result.created, result.updated, result.unchanged, result.committed),
        "problems": [(p.row, p.column, p.value, p.severity, p.rule, p.message, p.blocking) for p in result.problems],
    }


#: Timestamps differ between any two runs: only whether they are set is compared.
TIMES = {"history_date", "created", "updated", "compared", "found", "resolved", "when", "confirmed_at"}
#: What names a row of each table, once the ids in it are replaced by what they point to.
NATURAL = {
    "Patient": ("pseudonym",),
    "TumourCase": ("centre_id", "external_id"),
    "FormRecord": ("case_id", "form_id", "number"),
    "Finding": ("case_id", "rule", "row", "values_key"),
    "LinkageKey": ("patient_id",),
    "AccessLog": ("case_id", "user_id", "what"),
    "CandidatePair": ("left_id", "right_id"),
}


def registry() -> dict[str, list[str]]:
    """Every row of the tables an import writes, sorted, with each id replaced by what it names; and, for
    the history tables, which object each row is of and its type, in the order they were written."""
    centres = dict(Centre.objects.values_list("id", "code"))
    patients = dict(Patient.objects.values_list("id", "pseudonym"))
    cases = {pk: f"{centres[c]}/{e}" for pk, c, e in TumourCase.objects.values_list("id", "centre_id", "external_id")}
    # The dictionary, the users and the centres are the test's own, the same in both runs: their ids stay.
    names = {"patient_id": patients, "left_id": patients, "right_id": patients, "case_id": cases}
    models_ = [Patient, TumourCase, FormRecord, LinkageKey, Finding, AccessLog, CandidatePair]
    out: dict[str, list[str]] = {}
    for model in [*models_, *(m.history.model for m in models_ if hasattr(m, "history"))]:  # type: ignore[attr-defined]
        name = model.__name__
        historical = name.startswith("Historical")
        natural = NATURAL[name.removeprefix("Historical")]
        rows, order = [], []
        for values in model._default_manager.order_by(
            *(("history_date", "history_id") if historical else ("id",))
        ).values():
            row = {
                k: (v is not None if k in TIMES else names[k].get(v) if k in names else v)
                for k, v in values.items()
                if k not in ("id", "history_id")
            }
            rows.append(json.dumps(row, sort_keys=True, default=str))
            if historical:
                order.append(json.dumps([[row[k] for k in natural], row["history_type"]], default=str))
        out[name] = sorted(rows)
        if historical:
            out[f"{name}, in order"] = order
    return out
