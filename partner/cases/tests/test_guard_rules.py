"""The guard's rules one by one: partial record writes, quality errors before validation, superusers."""

from __future__ import annotations

from django.urls import reverse

from partner.accounts.models import ApiToken
from partner.cases.guard import Action, roles_for
from partner.cases.models import FormRecord, Patient, Status, TumourCase
from partner.cases.tests import test_status
from partner.cases.workflow import change_status
from partner.quality.models import Finding
from partner.testing import RegistryTestCase


class PartialWriteTests(RegistryTestCase):
    """PATCH of a record changes the fields given and nothing else."""

    def setUp(self):
        self.case = self.register(self.padova)
        test_status.StatusWorkflowTests._complete(self)
        _, key = ApiToken.issue(self.dm_padova, "test")
        self.headers = {"authorization": f"Bearer {key}"}

    def patch(self, form, values, version=None):
        record = FormRecord.objects.get(case=self.case, form__code=form, number=1)
        return self.client.patch(
            f"/api/cases/{self.case.pk}/records/{form}/1",
            {"version": record.version if version is None else version, "values": values},
            content_type="application/json",
            headers=self.headers,
        )

    def diagnosis(self):
        return FormRecord.objects.get(case=self.case, form__code="diagnosis")

    def test_a_field_left_out_keeps_its_value(self):
        before = dict(self.diagnosis().values)
        response = self.patch("diagnosis", {"diagnosis_date": "2024-02-12"})
        self.assertEqual(response.status_code, 200, response.content)
        after = self.diagnosis().values
        self.assertEqual(after, {**before, "diagnosis_date": "2024-02-12"})
        case = TumourCase.objects.get(pk=self.case.pk)
        self.assertEqual((case.morphology, str(case.diagnosis_date)), ("8370/3", "2024-02-12"))

    def test_null_clears_a_field(self):
        self.patch("diagnosis", {"laterality": "left"})
        self.assertEqual(self.diagnosis().values["laterality"], "left")
        response = self.patch("diagnosis", {"laterality": None})
        self.assertEqual(response.status_code, 200, response.content)
        self.assertNotIn("laterality", self.diagnosis().values)

    def test_unknown_fields_are_refused_and_nothing_changes(self):
        before = self.diagnosis()
        response = self.patch("diagnosis", {"diagnosis_date": "2024-02-12", **{f"x{i}": 1 for i in range(5000)}})
        self.assertEqual(response.status_code, 422)
        self.assertEqual(len(response.json()["errors"]), 20)
        after = self.diagnosis()
        self.assertEqual((after.values, after.version), (before.values, before.version))

    def test_a_computed_field_is_refused_unless_it_is_what_the_registry_computed(self):
        stored = self.diagnosis().values["age_at_diagnosis"]
        response = self.patch("diagnosis", {"age_at_diagnosis": stored + 3})
        self.assertEqual(response.status_code, 422)
        self.assertEqual([e["field"] for e in response.json()["errors"]], ["age_at_diagnosis"])
        self.assertEqual(self.patch("diagnosis", {"age_at_diagnosis": stored}).status_code, 200)

    def test_the_date_of_birth_is_not_changed_apart_from_the_patient(self):
        for values in ({"date_of_birth": "2012-05-05"}, {"date_of_birth": None}, {"sex": "male"}):
            with self.subTest(values=values):
                response = self.patch("registration", values)
                self.assertEqual(response.status_code, 422)
                self.assertIn("pseudonym", response.content.decode())
        registration = FormRecord.objects.get(case=self.case, form__code="registration").values
        patient = Patient.objects.get(pk=self.case.patient_id)
        self.assertEqual(
            (registration["date_of_birth"], registration["sex"], str(patient.date_of_birth), patient.sex),
            ("2012-05-04", "female", "2012-05-04", "female"),
        )

    def test_the_same_date_of_birth_given_again_is_no_change(self):
        response = self.patch("registration", {"date_of_birth": "2012-05-04"})
        self.assertEqual(response.status_code, 200, response.content)

    def test_the_openapi_description_says_the_write_is_partial(self):
        schema = self.client.get("/api/openapi.json").json()
        operation = schema["paths"]["/api/cases/{case_id}/records/{form}/{number}"]["patch"]
        self.assertIn("null", operation["description"])
        self.assertIn("422", operation["description"])


class ValidationRuleTests(RegistryTestCase):
    def setUp(self):
        self.case = self.register(self.padova, case_status=Status.SUBMITTED)
        test_status.StatusWorkflowTests._complete(self)

    def test_a_case_with_an_open_quality_error_is_not_validated(self):
        Finding.objects.create(
            case=self.case,
            rule="DEATH-BEFORE-DIAGNOSIS",
            severity="error",
            field="status.death_date",
            values="death_date=2020-01-01",
            values_key="x",
        )
        self.sign_in(self.client, self.nc_italy)
        self.client.post(reverse("cases:status", args=[self.case.pk]), {"to": Status.VALIDATED})
        self.assertEqual(TumourCase.objects.get(pk=self.case.pk).status, Status.SUBMITTED)
        Finding.objects.update(status="resolved")
        change_status(dictionary=self.dictionary, case=self.case, to=Status.VALIDATED, user=self.nc_italy)
        self.assertEqual(TumourCase.objects.get(pk=self.case.pk).status, Status.VALIDATED)


class SuperuserTests(RegistryTestCase):
    def test_a_superuser_sees_and_acts_on_every_case_as_a_european_coordinator(self):
        from django.contrib.auth import get_user_model

        root = get_user_model().objects.create_superuser("root", password="x" * 16)
        padova, paris = self.register(self.padova), self.register(self.paris, given="Léa")
        self.assertEqual(set(TumourCase.objects.restrict(root)), {padova, paris})
        self.assertEqual(roles_for(root, paris), {"european_coordinator"})
        inactive = get_user_model().objects.create_superuser("gone", password="x" * 16, is_active=False)
        self.assertEqual(list(TumourCase.objects.restrict(inactive)), [])
        self.assertEqual(roles_for(inactive, paris), set())
        from partner.cases.guard import ChangeRefused, check_role

        check_role(root, paris, Action.ERASE)
        with self.assertRaises(ChangeRefused):
            check_role(inactive, paris, Action.EDIT)
