"""`partner.lib.bulk` writes what Django's `bulk_create` with simple-history's `bulk_create_with_history`
writes: the same rows and history rows, column for column, on whichever database the suite runs on."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from unittest import mock

from django.db import connection, transaction
from simple_history.utils import bulk_create_with_history

from partner.cases.models import FormRecord, Patient, TumourCase
from partner.dictionary.models import DictionaryVersion, FormDefinition
from partner.lib.bulk import insert, insert_with_history
from partner.linkage.models import LinkageKey
from partner.testing import RegistryTestCase

VALUES = [
    {"date_of_birth": "2012-05-04", "sex": "female"},
    {"note": "façade, Łódź, Köln: \"quoted\" and 'single'", "items": [1, 2.5, None, True], "nested": {"a": []}},
    {},
]


class WrittenAlike(RegistryTestCase):
    def build(self, tag: str) -> tuple[list[Patient], list[TumourCase], list[FormRecord]]:
        version = DictionaryVersion.objects.get(number=self.dictionary.number)
        forms = list(FormDefinition.objects.filter(version=version).order_by("position")[:3])
        patients = [
            Patient(
                pseudonym=f"{tag}{i:063d}",
                sex=["female", "male", "unknown"][i],
                date_of_birth=dt.date(2010 + i, 2, 28),
                country=self.italy,
                centre=[self.padova, self.milano, self.paris][i],
                registry_identity=None if i else 7,
            )
            for i in range(3)
        ]
        cases = [
            TumourCase(
                patient=patients[i % 3],
                centre=patients[i % 3].centre,
                dictionary_version=version,
                entity=None,
                morphology="8370/3",
                topography=f"C74.{i % 2}",
                iccc_group="XIa" if i else "",
                diagnosis_date=None if i == 3 else dt.date(2020, 1, 1 + i),
                status="submitted" if i % 2 else "draft",
                external_id=f"{tag}-{i}" if i != 2 else "",
            )
            for i in range(4)
        ]
        records = [
            FormRecord(case=cases[i % 4], form=forms[i % 3], number=1 + i // 4, values=VALUES[i % 3]) for i in range(9)
        ]
        records[4]._history_user = self.european  # type: ignore[attr-defined]
        records[5]._change_reason = "from the national file"  # type: ignore[attr-defined]
        return patients, cases, records

    def snapshot(self, write: Callable[[list[Any], type[Any]], None]) -> dict[str, list[dict[str, Any]]]:
        """What one way of writing leaves in the tables, the ids counted from the first written; then rolled back."""
        with transaction.atomic():
            patients, cases, records = self.build("a")
            for objs in (patients, cases, records):
                write(objs, type(objs[0]))
            first = {
                "patient": patients[0].pk,
                "case": cases[0].pk,
                "record": records[0].pk,
            }
            relative = {"id": None, "patient_id": "patient", "case_id": "case"}
            tables: dict[str, list[dict[str, Any]]] = {}
            written = (("patient", Patient, patients), ("case", TumourCase, cases), ("record", FormRecord, records))
            for name, model, objs in written:
                ids = [o.pk for o in objs]
                rows = list(model.objects.filter(pk__in=ids).order_by("pk").values())
                history = list(model.history.filter(id__in=ids).order_by("history_id").values())  # type: ignore[attr-defined]
                self.assertEqual(len(history), len(objs))
                for row in rows + history:
                    for key, kind in relative.items():
                        row[key] = row[key] - first[kind or name] if key in row and row[key] is not None else None
                    for stamp in ("created", "updated", "history_date"):
                        if stamp in row:  # set by each writer's clock: a time of this transaction
                            self.assertIsInstance(row[stamp], dt.datetime)
                            self.assertIsNotNone(row.pop(stamp).tzinfo)
                    row.pop("history_id", None)
                tables[name] = rows
                tables[f"{name} history"] = history
            transaction.set_rollback(True)
        return tables

    def test_the_same_rows_and_history_as_bulk_create_with_history(self) -> None:
        theirs = self.snapshot(lambda objs, model: bulk_create_with_history(objs, model, default_user=self.dm_padova))
        ours = self.snapshot(lambda objs, model: insert_with_history(objs, model, user=self.dm_padova))
        self.assertEqual(set(ours), set(theirs))
        for table in theirs:
            with self.subTest(table=table):
                self.assertEqual(ours[table], theirs[table])
        # The story is in them: a user per row, one set on the object, a reason, a JSON value with accents.
        self.assertEqual(
            [r["history_user_id"] for r in ours["record history"]],
            [self.dm_padova.pk] * 4 + [self.european.pk] + [self.dm_padova.pk] * 4,
        )
        self.assertEqual(ours["record history"][5]["history_change_reason"], "from the national file")
        self.assertEqual(ours["record"][1]["values"], VALUES[1])
        self.assertEqual({r["history_type"] for r in ours["case history"]}, {"+"})

    def test_without_a_user_the_history_names_none(self) -> None:
        with transaction.atomic():
            patients, _cases, _records = self.build("b")
            insert_with_history(patients, Patient)
            self.assertEqual(
                list(Patient.history.filter(id__in=[p.pk for p in patients]).values_list("history_user_id", flat=True)),
                [None] * 3,
            )

    def test_objects_come_back_saved_with_their_keys_and_times(self) -> None:
        with transaction.atomic():
            patients, cases, _records = self.build("c")
            insert_with_history(patients, Patient)
            insert_with_history(cases, TumourCase)
            for case in cases:
                self.assertFalse(case._state.adding)
                self.assertEqual(case.patient_id, case.patient.pk)
                self.assertEqual(TumourCase.objects.get(pk=case.pk).created, case.created)
            self.assertEqual(len({c.pk for c in cases}), 4)

    def test_keys_of_deleted_rows_are_not_given_again(self) -> None:
        # A deleted case's history rows still carry its id: a new case must never take it.
        doomed = self.register(self.padova, "Deleted", "Later")
        doomed.records.all().delete()
        deleted = doomed.pk
        doomed.delete()
        with transaction.atomic():
            _patients, cases, _records = self.build("d")
            for case in cases:
                case.patient = doomed.patient
            insert(cases, TumourCase)
            self.assertGreater(min(c.pk for c in cases), deleted)

    def test_a_save_afterwards_takes_the_next_key(self) -> None:
        with transaction.atomic():
            patients, _cases, _records = self.build("e")
            insert_with_history(patients[:2], Patient)
            patients[2].save()
            self.assertGreater(patients[2].pk, max(p.pk for p in patients[:2]))

    def test_rows_without_history(self) -> None:
        with transaction.atomic():
            patients, _cases, _records = self.build("f")
            insert(patients, Patient)
            keys = [LinkageKey(patient=p, encoding=f"e{i}", schema_version="1") for i, p in enumerate(patients)]
            insert(keys, LinkageKey)
            stored = LinkageKey.objects.filter(patient__in=patients).order_by("pk")
            self.assertEqual(
                list(stored.values_list("patient_id", "encoding")),
                [(p.pk, f"e{i}") for i, p in enumerate(patients)],
            )
            self.assertFalse(Patient.history.filter(id__in=[p.pk for p in patients]).exists())

    def test_refused(self) -> None:
        patients, _cases, _records = self.build("g")
        with (
            self.subTest("outside a transaction"),
            mock.patch.object(connection, "in_atomic_block", False),
            self.assertRaisesMessage(RuntimeError, "inside transaction.atomic()"),
        ):
            insert(patients, Patient)
        with self.subTest("an object already saved"), transaction.atomic():
            patients[0].save()
            with self.assertRaisesMessage(ValueError, "is not new"):
                insert(patients, Patient)
        with self.subTest("a related object never saved"), transaction.atomic():
            _patients, cases, _records = self.build("h")
            with self.assertRaisesMessage(ValueError, "TumourCase.patient is an unsaved Patient"):
                insert(cases, TumourCase)
        self.assertFalse(Patient.objects.filter(pseudonym__startswith="h").exists())
