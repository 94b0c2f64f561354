"""Changes that arrive together: real threads released at once, each on its own connection.

A lock and an edit of one case, and ten registrations of one child, are run many times over: a race
that is lost one time in twenty is caught.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection
from django.test import TransactionTestCase

from partner.cases.guard import ChangeRefused
from partner.cases.models import Patient, Status, TumourCase
from partner.cases.records import update_record
from partner.cases.services import create_case
from partner.cases.tests import test_status
from partner.cases.workflow import TransitionRefused, change_status
from partner.lib.pseudonym import Identity, pseudonym
from partner.testing import RegistryStory, case_forms

ROUNDS = 40


def together(*work: Callable[[], Any]) -> list[Any]:
    """Run each callable in its own thread, released by one barrier; their results or exceptions."""
    barrier = threading.Barrier(len(work))
    results: list[Any] = [None] * len(work)

    def run(i: int, job: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[i] = job()
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(work)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


class RaceTests(RegistryStory, TransactionTestCase):
    def setUp(self) -> None:
        self.build_story()

    def tearDown(self) -> None:
        close_old_connections()

    def test_a_lock_and_an_edit_arriving_together_never_both_win(self):
        case = self.case = self.register(self.padova, case_status=Status.VALIDATED)
        test_status.StatusWorkflowTests._complete(self)
        outcomes = set()
        for n in range(ROUNDS):
            TumourCase.objects.filter(pk=case.pk).update(status=Status.VALIDATED)
            record = case.records.get(form__code="diagnosis")
            day = f"2024-03-{1 + n % 28:02d}"

            def lock() -> Any:
                return change_status(dictionary=self.dictionary, case=case, to=Status.LOCKED, user=self.nc_italy)

            def edit(record: Any = record, day: str = day) -> Any:
                return update_record(
                    dictionary=self.dictionary,
                    case=case,
                    form_code="diagnosis",
                    number=1,
                    values={**record.values, "diagnosis_date": day},
                    version=record.version,
                    user=self.dm_padova,
                )

            locked, edited = together(lock, edit)
            status = TumourCase.objects.get(pk=case.pk).status
            stored = case.records.get(form__code="diagnosis").values["diagnosis_date"]
            if isinstance(locked, Exception):  # the edit came first: back to submitted, not lockable
                self.assertIsInstance(locked, TransitionRefused)
                self.assertNotIsInstance(edited, Exception)
                self.assertEqual((status, stored), (Status.SUBMITTED, day))
                outcomes.add("edit first")
            else:  # the lock came first: the edit is refused and the case stays locked
                self.assertIsInstance(edited, ChangeRefused, f"round {n}: the lock and {edited!r}")
                self.assertEqual(status, Status.LOCKED)
                self.assertNotEqual(stored, day)
                outcomes.add("lock first")
        self.assertTrue(outcomes)

    def test_ten_registrations_of_one_child_at_once_give_one_patient_and_ten_cases(self):
        identity = Identity("Zofia", "Nowak", __import__("datetime").date(2011, 4, 3), "female", "PL")
        key = pseudonym(identity, settings.PSEUDONYM_KEY)
        rounds = 3 if connection.vendor == "postgresql" else 2
        for n in range(rounds):

            def register(n: int = n) -> Any:
                return create_case(
                    dictionary=self.dictionary,
                    centre=self.padova,
                    pseudonym=key,
                    forms=case_forms(born="2011-04-03", diagnosed=f"2024-0{n + 1}-10"),
                    user=self.dm_padova,
                    identity=identity,
                )

            results = together(*[register] * 10)
            errors = [r for r in results if isinstance(r, Exception)]
            self.assertEqual(errors, [])
        self.assertEqual(Patient.objects.filter(pseudonym=key).count(), 1)
        self.assertEqual(TumourCase.objects.filter(patient__pseudonym=key).count(), 10 * rounds)
