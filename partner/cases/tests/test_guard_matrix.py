"""The rules of change, held by every entry point: the same invariant, path by path.

Each path changes the diagnosis date of one case as its users do it: the edit page, the API, a CSV
and an XLSX import, a hub push, and (for who may withdraw and erase) the withdrawal page. The FHIR
import only registers cases: it is held to the registration rules (role at the centre, identity).
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import tempfile
from pathlib import Path

import openpyxl
from django.urls import reverse

from partner.accounts.models import ApiToken, Membership, Role
from partner.cases.consent import withdraw_consent
from partner.cases.guard import ChangeRefused
from partner.cases.models import ConsentWithdrawal, FormRecord, Patient, Status, TumourCase
from partner.cases.tests import test_status
from partner.cases.tests.test_edit import page_data
from partner.interop.fhir_export import case_bundle
from partner.interop.fhir_import import import_bundle
from partner.interop.hub import case_payload, digest
from partner.interop.importing import import_cases
from partner.interop.tables import read_table
from partner.testing import RegistryTestCase

BEFORE = "2024-02-10"
AFTER = "2024-02-12"
EDITS = ("page", "api", "csv", "xlsx", "hub")
IDENTITY = {"given_names": "Giulia", "family_names": "Rossi", "sex": "female", "country_of_birth": "IT"}


class GuardMatrixTests(RegistryTestCase):
    def setUp(self):
        self.case = self.register(
            self.padova,
            diagnosed=BEFORE,
            consent={"consent_reuse": "given", "consent_date": "2024-02-11", "consent_given_by": "parents"},
            status={"patient_status": "alive", "last_contact_date": "2025-01-10"},
        )
        TumourCase.objects.filter(pk=self.case.pk).update(external_id="PD-1")
        test_status.StatusWorkflowTests._complete(self)
        self.case.refresh_from_db()
        self.folder = Path(tempfile.mkdtemp(prefix="partner-guard-"))

    # --- the paths -------------------------------------------------------------------------

    def change(self, path: str, user, *, diagnosed: str = AFTER, born: str = "2012-05-04") -> tuple[bool, str]:
        """Change the case's diagnosis date (and, if asked, its date of birth) through `path`:
        (True, "") if it was saved, (False, the reason given) if refused."""
        return getattr(self, f"_by_{path}")(user, diagnosed, born)

    def _by_page(self, user, diagnosed, born):
        self.sign_in(self.client, user)
        url = reverse("cases:edit", args=[self.case.pk])
        page = self.client.get(url)
        if page.status_code != 200:
            return False, f"{page.status_code} {[str(m) for m in page.wsgi_request._messages]}"
        data = page_data(page)
        data["diagnosis-diagnosis_date"] = diagnosed
        data["registration-date_of_birth"] = born
        response = self.client.post(url, data)
        if response.status_code == 302 and response.url.startswith(reverse("cases:detail", args=[self.case.pk])):
            messages = [str(m) for m in response.wsgi_request._messages]
            return not any("locked" in m or "withdrawn" in m or "role" in m for m in messages), " ".join(messages)
        return False, f"{response.status_code}"

    def _by_api(self, user, diagnosed, born):
        _, key = ApiToken.issue(user, "test")
        headers = {"authorization": f"Bearer {key}"}
        results = []
        for form, values in (("registration", {"date_of_birth": born}), ("diagnosis", {"diagnosis_date": diagnosed})):
            record = FormRecord.objects.filter(case=self.case, form__code=form, number=1).first()
            if form == "registration" and born == "2012-05-04":
                continue
            response = self.client.patch(
                f"/api/cases/{self.case.pk}/records/{form}/1",
                {"version": record.version if record else 1, "values": values},
                content_type="application/json",
                headers=headers,
            )
            results.append((response.status_code == 200, response.content.decode()))
            if response.status_code != 200:
                break
        return all(ok for ok, _ in results), " ".join(text for ok, text in results if not ok)

    def _row(self, diagnosed, born):
        return {
            "external_id": "PD-1",
            "centre": "IT-PD",
            **IDENTITY,
            "date_of_birth": born,
            "diagnosis_date": diagnosed,
        }

    def _import(self, path: Path, user) -> tuple[bool, str]:
        result = import_cases(read_table(path), user=user)
        return result.committed and result.updated == 1, " ".join(p.message for p in result.errors)

    def _by_csv(self, user, diagnosed, born):
        row = self._row(diagnosed, born)
        path = self.folder / "cases.csv"
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.DictWriter(out, fieldnames=list(row))
            writer.writeheader()
            writer.writerow(row)
        return self._import(path, user)

    def _by_xlsx(self, user, diagnosed, born):
        row = self._row(diagnosed, born)
        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(list(row))
        sheet.append(list(row.values()))
        path = self.folder / "cases.xlsx"
        book.save(path)
        return self._import(path, user)

    def _by_hub(self, user, diagnosed, born):
        payload = copy.deepcopy(case_payload(TumourCase.objects.get(pk=self.case.pk), self.dictionary))
        payload["forms"]["diagnosis"]["diagnosis_date"] = diagnosed
        payload["forms"]["registration"]["date_of_birth"] = born
        _, key = ApiToken.issue(user, "node")
        response = self.client.post(
            "/api/hub/push",
            {"digest": digest([payload]), "cases": [payload]},
            content_type="application/json",
            headers={"authorization": f"Bearer {key}"},
        )
        body = response.json()
        return response.status_code == 200 and body.get("updated") == 1, str(body)

    def withdraw(self, user, *, erase: bool) -> tuple[bool, str]:
        self.sign_in(self.client, user)
        data = {"withdrawn_on": "2025-01-15", "extent": "erase" if erase else "keep", "confirm": "on"}
        data["reason"] = "The consent form's scope requires it."
        before = ConsentWithdrawal.objects.filter(case=self.case).count()
        response = self.client.post(reverse("cases:withdraw", args=[self.case.pk]), data)
        if response.status_code == 302:
            recorded = ConsentWithdrawal.objects.filter(case=self.case).count() > before
            return recorded, "" if recorded else " ".join(str(m) for m in response.wsgi_request._messages)
        form = response.context["form"] if response.status_code == 200 else None
        return False, str(form.errors) if form is not None else str(response.status_code)

    def diagnosed(self) -> str:
        return FormRecord.objects.get(case=self.case, form__code="diagnosis").values["diagnosis_date"]

    def set_status(self, status: str) -> None:
        TumourCase.objects.filter(pk=self.case.pk).update(status=status)

    def user_for(self, path: str):
        """The hub receives pushes from a national node's coordinator account; the rest is the centre's."""
        return self.nc_italy if path == "hub" else self.dm_padova

    # --- the invariants --------------------------------------------------------------------

    def test_a_locked_case_takes_no_change_by_any_path(self):
        for path in EDITS:
            with self.subTest(path=path):
                self.set_status(Status.LOCKED)
                saved, why = self.change(path, self.user_for(path))
                self.assertFalse(saved, path)
                self.assertIn("locked", why.lower(), path)
                self.assertEqual(self.diagnosed(), BEFORE)
                self.assertEqual(TumourCase.objects.get(pk=self.case.pk).status, Status.LOCKED)
        with self.subTest(path="erasure by the centre"):
            saved, why = self.withdraw(self.dm_padova, erase=True)
            self.assertFalse(saved)
            self.assertIn("only its national or European coordinator", why)
        with self.subTest(path="withdrawal"):  # a family withdraws whatever the case's state
            self.assertEqual(self.withdraw(self.dm_padova, erase=False), (True, ""))

    def test_a_withdrawn_case_takes_no_new_data_by_any_path(self):
        withdraw_consent(case=self.case, withdrawn_on=dt.date(2025, 1, 15), erase=False, user=self.dm_padova)
        self.set_status(Status.SUBMITTED)
        for path in EDITS:
            with self.subTest(path=path):
                saved, why = self.change(path, self.user_for(path))
                self.assertFalse(saved, path)
                self.assertIn("withdrawn", why.lower(), path)
                self.assertEqual(self.diagnosed(), BEFORE)
        for erase in (False, True):
            with self.subTest(path="erasure" if erase else "withdrawal"):
                saved, why = self.withdraw(self.nc_italy, erase=erase)
                self.assertFalse(saved)
                self.assertIn("already withdrawn", why)
        self.assertEqual(ConsentWithdrawal.objects.filter(case=self.case).count(), 1)

    def test_a_validated_case_changed_by_any_path_goes_back_to_submitted(self):
        for n, path in enumerate(EDITS):
            with self.subTest(path=path):
                self.set_status(Status.VALIDATED)
                diagnosed = (dt.date.fromisoformat(AFTER) + dt.timedelta(days=n)).isoformat()
                saved, why = self.change(path, self.user_for(path), diagnosed=diagnosed)
                self.assertTrue(saved, f"{path}: {why}")
                self.assertEqual(self.diagnosed(), diagnosed)
                case = TumourCase.objects.get(pk=self.case.pk)
                self.assertEqual((case.status, case.diagnosis_date.isoformat()), (Status.SUBMITTED, diagnosed))

    def test_the_identity_fields_never_leave_patient_and_record_apart(self):
        for n, path in enumerate(EDITS):
            with self.subTest(path=path):
                self.set_status(Status.SUBMITTED)
                before = self.diagnosed()
                diagnosed = (dt.date.fromisoformat(AFTER) + dt.timedelta(days=n)).isoformat()
                saved, why = self.change(path, self.user_for(path), diagnosed=diagnosed, born="2012-05-05")
                registration = FormRecord.objects.get(case=self.case, form__code="registration").values
                patient = Patient.objects.get(pk=self.case.patient_id)
                self.assertEqual(
                    (registration["date_of_birth"], patient.date_of_birth.isoformat()), ("2012-05-04", "2012-05-04")
                )
                if path == "page":  # the page shows the date of birth and never posts it back
                    self.assertTrue(saved, why)
                else:  # the whole change is refused, saying why
                    self.assertFalse(saved, path)
                    self.assertEqual(self.diagnosed(), before)
                    self.assertRegex(why, "date of birth|another child", path)
        with self.subTest(path="fhir"):
            bundle = case_bundle(TumourCase.objects.get(pk=self.case.pk))
            TumourCase.objects.filter(pk=self.case.pk).update(external_id="PD-0")
            for entry in bundle["entry"]:
                if entry["resource"]["resourceType"] == "Patient":
                    entry["resource"]["birthDate"] = "2012-05-05"
            with self.assertRaisesRegex(Exception, "date of birth"):
                import_bundle(bundle, centre=self.padova, user=self.dm_padova)
            self.assertEqual(TumourCase.objects.filter(centre=self.padova).count(), 1)

    def test_roles_count_only_where_they_cover_the_case(self):
        """A data manager at Padova who also coordinates France is a data manager for a Padova case."""
        both = self._user("dm.padova.nc.france", Role.DATA_MANAGER, centre=self.padova)
        Membership.objects.create(user=both, role=Role.NATIONAL_COORDINATOR, country=self.france)
        self.set_status(Status.SUBMITTED)
        _, key = ApiToken.issue(both, "test")
        response = self.client.post(
            f"/api/cases/{self.case.pk}/status",
            {"status": Status.VALIDATED},
            content_type="application/json",
            headers={"authorization": f"Bearer {key}"},
        )
        self.assertEqual(response.status_code, 403)
        self.sign_in(self.client, both)
        self.client.post(reverse("cases:status", args=[self.case.pk]), {"to": Status.VALIDATED})
        self.assertEqual(TumourCase.objects.get(pk=self.case.pk).status, Status.SUBMITTED)
        page = self.client.get(reverse("cases:detail", args=[self.case.pk]))
        self.assertNotIn(Status.VALIDATED, [to for to, _label in page.context["transitions"]])
        for path in ("page", "api", "csv", "xlsx", "hub"):
            with self.subTest(path=path):  # as its data manager, they edit it
                diagnosed = f"2024-02-{12 + EDITS.index(path)}"
                saved, why = self.change(path, both, diagnosed=diagnosed)
                self.assertTrue(saved, f"{path}: {why}")
        self.set_status(Status.LOCKED)
        with self.subTest(path="erasure"):
            saved, why = self.withdraw(both, erase=True)
            self.assertFalse(saved)
        with self.subTest(path="fhir"):  # no role at Paris: no case registered there
            bundle = case_bundle(TumourCase.objects.get(pk=self.case.pk))
            with self.assertRaises(ChangeRefused):
                import_bundle(bundle, centre=self.paris, user=self.dm_padova)
        with self.subTest(path="another centre's data manager"):
            for path in ("page", "api", "csv", "xlsx"):
                self.set_status(Status.SUBMITTED)
                saved, _why = self.change(path, self.dm_paris)
                self.assertFalse(saved, path)
            self.assertEqual(self.withdraw(self.dm_paris, erase=False)[0], False)

    def test_a_stale_version_never_overwrites_a_newer_one(self):
        self.set_status(Status.SUBMITTED)
        _, key = ApiToken.issue(self.dm_padova, "test")
        record = FormRecord.objects.get(case=self.case, form__code="diagnosis")
        for values in ({"diagnosis_date": "2024-02-11"}, {"diagnosis_date": "2024-02-13"}):
            response = self.client.patch(
                f"/api/cases/{self.case.pk}/records/diagnosis/1",
                {"version": record.version, "values": values},
                content_type="application/json",
                headers={"authorization": f"Bearer {key}"},
            )
        self.assertEqual(response.status_code, 409)
        self.assertEqual(self.diagnosed(), "2024-02-11")
        self.sign_in(self.client, self.dm_padova)
        url = reverse("cases:edit", args=[self.case.pk])
        stale = page_data(self.client.get(url))
        FormRecord.objects.filter(pk=record.pk).update(version=record.version + 5)
        stale["diagnosis-diagnosis_date"] = "2024-02-14"
        self.assertEqual(self.client.post(url, stale).status_code, 409)
        self.assertEqual(self.diagnosed(), "2024-02-11")
