"""Writing over the API: patients, new cases and repeating records, in scope, validated, with their author."""

from django.db import connection

from partner.accounts.models import ApiToken, Membership, Role
from partner.cases.models import AccessLog, FormRecord, Patient, Status, TumourCase
from partner.cases.services import create_case
from partner.testing import RegistryTestCase, case_forms

NAMES = ("Zofia", "Wiśniewska", "Kowalczyk", "ZOFIA", "WISNIEWSKA")


def identity(**overrides):
    return {
        "given_names": "Zofia Maria",
        "family_names": "Wiśniewska-Kowalczyk",
        "date_of_birth": "2011-04-03",
        "sex": "female",
        "country_of_birth": "PL",
        **overrides,
    }


def new_case(**overrides):
    forms = case_forms(born="2011-04-03", diagnosed="2023-05-06")
    del forms["registration"]  # date of birth and sex come from the identity
    return {"identity": identity(), "forms": forms, **overrides}


class ApiStory(RegistryTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.padova_case = cls.register(cls.padova)
        cls.paris_case = cls.register(cls.paris, given="Léa", family="Martin", morphology="8720/3", topography="C44.5")

    def bearer(self, user):
        _, key = ApiToken.issue(user, "test")
        return {"authorization": f"Bearer {key}"}

    def post(self, user, url, data):
        return self.client.post(url, data, content_type="application/json", headers=self.bearer(user))


class PatientApiTests(ApiStory):
    def test_the_list_shows_only_patients_with_a_case_in_scope(self):
        items = self.client.get("/api/patients", headers=self.bearer(self.dm_paris)).json()["items"]
        patient = self.paris_case.patient
        self.assertEqual(
            items,
            [
                {
                    "pseudonym": patient.pseudonym,
                    "sex": "female",
                    "date_of_birth": "2012-05-04",
                    "country": "FR",
                    "cases": [self.paris_case.pk],
                }
            ],
        )
        self.assertEqual(self.client.get("/api/patients", headers=self.bearer(self.european)).json()["count"], 2)
        self.assertEqual(self.client.get("/api/patients", headers=self.bearer(self.researcher)).json()["count"], 0)

    def test_a_child_treated_in_two_countries_is_seen_from_each_with_its_own_cases_only(self):
        relapse = create_case(
            dictionary=self.dictionary,
            centre=self.paris,
            pseudonym=self.padova_case.patient.pseudonym,
            forms=case_forms(diagnosed="2025-01-10"),
        )
        pseudonym = self.padova_case.patient.pseudonym
        seen_from_paris = self.client.get(f"/api/patients/{pseudonym}", headers=self.bearer(self.dm_paris)).json()
        seen_from_italy = self.client.get(f"/api/patients/{pseudonym}", headers=self.bearer(self.nc_italy)).json()
        self.assertEqual(seen_from_paris["cases"], [relapse.pk])
        self.assertEqual(seen_from_italy["cases"], [self.padova_case.pk])

    def test_a_patient_out_of_scope_is_not_found(self):
        pseudonym = self.padova_case.patient.pseudonym
        response = self.client.get(f"/api/patients/{pseudonym}", headers=self.bearer(self.dm_paris))
        self.assertEqual(response.status_code, 404)
        self.assertFalse(AccessLog.objects.exists())

    def test_reading_a_patient_is_logged_as_a_read_of_each_case_in_scope(self):
        pseudonym = self.padova_case.patient.pseudonym
        response = self.client.get(f"/api/patients/{pseudonym}", headers=self.bearer(self.dm_padova))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            list(AccessLog.objects.values_list("user__username", "case", "channel")),
            [("dm.padova", self.padova_case.pk, "api")],
        )

    def test_a_lookup_gives_the_pseudonym_and_whether_the_child_is_known_in_scope(self):
        giulia = identity(given_names="Giulia", family_names="Rossi", date_of_birth="2012-05-04", country_of_birth="IT")
        response = self.post(self.dm_padova, "/api/patients/lookup", giulia)
        self.assertEqual(response.json(), {"pseudonym": self.padova_case.patient.pseudonym, "known": True})

    def test_a_lookup_out_of_scope_answers_unknown(self):
        giulia = identity(given_names="Giulia", family_names="Rossi", date_of_birth="2012-05-04", country_of_birth="IT")
        response = self.post(self.dm_paris, "/api/patients/lookup", giulia)
        self.assertEqual(response.json()["known"], False)

    def test_only_centre_staff_look_up_identifying_data(self):
        for user in (self.researcher, self.expert, self.nc_italy):
            self.assertEqual(self.post(user, "/api/patients/lookup", identity()).status_code, 403, user)

    def test_a_name_without_letters_is_refused_without_echoing_the_identity(self):
        response = self.post(self.dm_padova, "/api/patients/lookup", identity(given_names=" - "))
        self.assertEqual(response.status_code, 422)
        self.assertNotIn("Wiśniewska", response.content.decode())
        self.assertEqual([(e["form"], e["field"]) for e in response.json()["errors"]], [("identity", "given_names")])


class CaseCreationApiTests(ApiStory):
    def test_a_data_manager_registers_a_case_from_identifying_data(self):
        data = new_case()
        data["forms"]["treatment"] = [{"line_type": "surgery", "surgery_type": "resection_primary"}]
        response = self.post(self.dm_padova, "/api/cases", data)
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        case = TumourCase.objects.get(pk=body["id"])
        self.assertEqual((case.centre, case.entity.code, case.status), (self.padova, "ACC", "draft"))
        self.assertEqual((case.patient.date_of_birth.isoformat(), case.patient.sex), ("2011-04-03", "female"))
        records = {(r["form"], r["number"]): r for r in body["records"]}
        self.assertEqual(records[("registration", 1)]["values"]["pseudonym"], case.patient.pseudonym)
        self.assertEqual(records[("treatment", 1)]["values"]["line_type"], "surgery")

    def test_the_caller_is_the_author_of_everything_written(self):
        body = self.post(self.dm_padova, "/api/cases", new_case()).json()
        case = TumourCase.objects.get(pk=body["id"])
        self.assertEqual(case.history.get().history_user, self.dm_padova)
        self.assertEqual(case.patient.history.get().history_user, self.dm_padova)
        authors = {r.history.get().history_user for r in case.records.all()}
        self.assertEqual(authors, {self.dm_padova})

    def test_the_names_are_stored_nowhere(self):
        self.post(self.dm_padova, "/api/patients/lookup", identity())
        self.assertEqual(self.post(self.dm_padova, "/api/cases", new_case()).status_code, 201)
        with connection.cursor() as cursor:
            for table in connection.introspection.table_names():
                cursor.execute(f'SELECT * FROM "{table}"')
                dump = repr(cursor.fetchall())
                for name in NAMES:
                    self.assertNotIn(name, dump, f"{name} found in {table}")

    def test_a_second_case_of_a_known_patient_is_registered_by_pseudonym(self):
        pseudonym = self.padova_case.patient.pseudonym
        data = {"pseudonym": pseudonym, "forms": {"diagnosis": case_forms(diagnosed="2025-01-10")["diagnosis"]}}
        response = self.post(self.dm_padova, "/api/cases", data)
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(TumourCase.objects.get(pk=response.json()["id"]).patient, self.padova_case.patient)

    def test_a_pseudonym_out_of_scope_is_not_found(self):
        data = {"pseudonym": self.padova_case.patient.pseudonym, "forms": case_forms()}
        self.assertEqual(self.post(self.dm_paris, "/api/cases", data).status_code, 404)
        self.assertEqual(TumourCase.objects.count(), 2)

    def test_every_invalid_field_is_named_and_nothing_is_written(self):
        data = new_case()
        data["forms"]["diagnosis"]["morphology"] = "8370"
        data["forms"]["status"] = {"last_contact_date": "not a date"}
        response = self.post(self.dm_padova, "/api/cases", data)
        self.assertEqual(response.status_code, 422)
        named = {(e["form"], e["field"]) for e in response.json()["errors"]}
        self.assertLessEqual({("diagnosis", "morphology"), ("status", "last_contact_date")}, named)
        self.assertEqual((TumourCase.objects.count(), Patient.objects.count()), (2, 2))

    def test_a_date_of_birth_other_than_the_identitys_is_refused(self):
        data = new_case()
        data["forms"]["registration"] = {"date_of_birth": "2011-04-30"}
        response = self.post(self.dm_padova, "/api/cases", data)
        self.assertEqual(response.status_code, 422)
        self.assertEqual(
            [(e["form"], e["field"]) for e in response.json()["errors"]], [("registration", "date_of_birth")]
        )

    def test_identity_or_pseudonym_but_not_both(self):
        both = new_case(pseudonym=self.padova_case.patient.pseudonym)
        neither = {"forms": case_forms()}
        for data in (both, neither):
            response = self.post(self.dm_padova, "/api/cases", data)
            self.assertEqual(response.status_code, 422)
            self.assertEqual(response.json(), {"detail": "give either identity or pseudonym", "errors": []})

    def test_a_family_name_without_letters_is_named_in_the_documented_form(self):
        response = self.post(self.dm_padova, "/api/cases", new_case(identity=identity(family_names="- ' -")))
        self.assertEqual(response.status_code, 422)
        self.assertEqual([(e["form"], e["field"]) for e in response.json()["errors"]], [("identity", "family_names")])
        self.assertEqual(TumourCase.objects.count(), 2)

    def test_only_centre_staff_register_cases(self):
        for user in (self.researcher, self.expert, self.nc_italy, self.european):
            self.assertEqual(self.post(user, "/api/cases", new_case()).status_code, 403, user)
        self.assertEqual(TumourCase.objects.count(), 2)

    def test_someone_working_at_two_centres_says_which(self):
        Membership.objects.create(user=self.dm_padova, role=Role.CLINICIAN, centre=self.milano)
        response = self.post(self.dm_padova, "/api/cases", new_case())
        self.assertEqual(response.status_code, 422)
        self.assertIn("IT-MI", response.json()["detail"])
        self.assertEqual(self.post(self.dm_padova, "/api/cases", new_case(centre="FR-PA")).status_code, 422)
        response = self.post(self.dm_padova, "/api/cases", new_case(centre="IT-MI"))
        self.assertEqual(response.json()["centre"], "IT-MI")


class RepeatingRecordApiTests(ApiStory):
    def url(self, case=None, form="treatment"):
        return f"/api/cases/{(case or self.padova_case).pk}/records/{form}"

    def add(self, user=None, case=None, form="treatment", **values):
        values = values or {"line_type": "chemotherapy", "treatment_start_date": "2024-03-01"}
        return self.post(user or self.dm_padova, self.url(case, form), {"values": values})

    def remove(self, user, number, version, case=None):
        return self.client.delete(
            f"{self.url(case)}/{number}?version={version}", headers=self.bearer(user or self.dm_padova)
        )

    def test_a_treatment_line_is_added_after_the_last_one_with_its_author(self):
        self.assertEqual(self.add().json()["number"], 1)
        response = self.add(line_type="radiotherapy", treatment_start_date="2024-06-01")
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(response.json()["number"], 2)
        self.assertEqual(response.json()["version"], 1)
        record = FormRecord.objects.get(case=self.padova_case, form__code="treatment", number=2)
        self.assertEqual(record.values["line_type"], "radiotherapy")
        self.assertEqual(record.history.get().history_user, self.dm_padova)

    def test_invalid_values_get_422_naming_the_field(self):
        response = self.add(line_type="laser")
        self.assertEqual(response.status_code, 422)
        self.assertEqual([e["field"] for e in response.json()["errors"]], ["line_type"])
        self.assertFalse(FormRecord.objects.filter(form__code="treatment").exists())

    def test_a_single_form_the_case_has_already_cannot_be_added_twice(self):
        response = self.add(form="diagnosis", diagnosis_date="2024-02-11")
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["form"], "diagnosis")

    def test_an_unknown_form_is_not_found(self):
        self.assertEqual(self.add(form="horoscope").status_code, 404)

    def test_a_case_out_of_scope_is_not_found(self):
        self.assertEqual(self.add(user=self.dm_paris).status_code, 404)
        self.add()
        self.assertEqual(self.remove(self.dm_paris, 1, 1).status_code, 404)
        self.assertTrue(FormRecord.objects.filter(form__code="treatment").exists())

    def test_a_line_is_removed_with_the_current_version_and_the_history_keeps_it(self):
        self.add()
        self.add()
        response = self.remove(self.nc_italy, 2, 1)
        self.assertEqual(response.status_code, 204, response.content)
        numbers = FormRecord.objects.filter(case=self.padova_case, form__code="treatment").values_list("number")
        self.assertEqual(list(numbers), [(1,)])
        removal = FormRecord.history.filter(history_type="-").get()
        self.assertEqual((removal.number, removal.history_user), (2, self.nc_italy))
        self.assertEqual(self.add().json()["number"], 3, "a removed line's number is not given again")

    def test_a_stale_version_gets_409_and_removes_nothing(self):
        self.add()
        record = FormRecord.objects.get(case=self.padova_case, form__code="treatment")
        record.version = 2
        record.save()
        response = self.remove(self.dm_padova, 1, 1)
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.json()["current"]["version"], 2)
        self.assertTrue(FormRecord.objects.filter(pk=record.pk).exists())

    def test_a_single_form_cannot_be_removed(self):
        response = self.client.delete(f"{self.url(form='diagnosis')}/1?version=1", headers=self.bearer(self.dm_padova))
        self.assertEqual(response.status_code, 422)

    def test_a_locked_case_gets_no_line_added_nor_removed(self):
        self.add()
        TumourCase.objects.filter(pk=self.padova_case.pk).update(status=Status.LOCKED)
        response = self.add()
        self.assertEqual(response.status_code, 409)
        self.assertIn("locked", response.json()["detail"])
        self.assertEqual(self.remove(self.dm_padova, 1, 1).status_code, 409)
        self.assertEqual(FormRecord.objects.filter(form__code="treatment").count(), 1)

    def test_a_line_added_to_a_validated_case_sends_it_back_for_validation(self):
        TumourCase.objects.filter(pk=self.padova_case.pk).update(status=Status.VALIDATED)
        incomplete = self.add()
        self.assertEqual([e["field"] for e in incomplete.json()["errors"]], ["chemo_agents"])
        complete = {"line_type": "chemotherapy", "treatment_start_date": "2024-03-01", "chemo_agents": ["cisplatin"]}
        self.assertEqual(self.add(**complete).status_code, 201)
        case = TumourCase.objects.get(pk=self.padova_case.pk)
        self.assertEqual(case.status, Status.SUBMITTED)
        self.assertEqual(case.history.first().history_user, self.dm_padova)


class OpenApiTests(RegistryTestCase):
    def test_the_description_lists_the_write_endpoints(self):
        paths = self.client.get("/api/openapi.json").json()["paths"]
        self.assertIn("post", paths["/api/cases"])
        self.assertIn("get", paths["/api/patients"])
        self.assertIn("post", paths["/api/patients/lookup"])
        self.assertIn("get", paths["/api/patients/{pseudonym}"])
        self.assertIn("post", paths["/api/cases/{case_id}/records/{form}"])
        self.assertLessEqual({"patch", "delete"}, set(paths["/api/cases/{case_id}/records/{form}/{number}"]))
        self.assertEqual(self.client.get("/api/docs").status_code, 200)
