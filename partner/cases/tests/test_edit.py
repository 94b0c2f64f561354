"""Editing a case on the web: every form, repeating rows, the tumour module, and no lost update."""

from django.urls import reverse

from partner.cases.models import FormRecord, Status, TumourCase
from partner.cases.tests import test_status
from partner.testing import RegistryTestCase


def page_data(response):
    """What the browser would post back from a rendered edit page, untouched."""
    page = response.context["page"]
    data = {"seen": response.context["seen"]}
    for form in page.singles + page.modules:
        for name, _field in form.fields.items():
            value = form[name].value()
            if value not in (None, "", []):
                data[form.add_prefix(name)] = value
    for rep in page.repeating:
        code = rep.definition.code
        data[f"{code}-row"] = [key for key, _n, _f in rep.rows]
        for key, number, form in rep.rows:
            if number:
                data[f"{code}-{key}-number"] = str(number)
            for name in form.fields:
                value = form[name].value()
                if value not in (None, "", []):
                    data[form.add_prefix(name)] = value
    return data


def treatment(key, **values):
    return {f"treatment-{key}-{k}": v for k, v in values.items()}


class EditCaseTests(RegistryTestCase):
    def setUp(self):
        self.case = self.register(self.padova)
        self.sign_in(self.client, self.dm_padova)
        self.url = reverse("cases:edit", args=[self.case.pk])

    def test_the_page_shows_the_stored_values_the_module_and_a_row_template(self):
        response = self.client.get(self.url)
        self.assertContains(response, 'name="diagnosis-morphology"')
        self.assertContains(response, 'value="8370/3"')
        self.assertEqual([f.definition.code for f in response.context["page"].modules], ["acc"])
        self.assertContains(response, 'name="treatment-__row__-line_type"')
        self.assertIn("diagnosis:1:1", response.context["seen"])

    def test_rows_are_added_saved_and_removed(self):
        data = page_data(self.client.get(self.url))
        data["treatment-row"] = ["new1", "new2"]
        data |= treatment("new1", line_type="surgery", treatment_start_date="2024-03-01", surgery_type="biopsy_open")
        data |= treatment("new2", line_type="chemotherapy", treatment_start_date="2024-04-01")
        response = self.client.post(self.url, data)
        self.assertRedirects(response, reverse("cases:detail", args=[self.case.pk]), fetch_redirect_response=False)
        lines = FormRecord.objects.filter(case=self.case, form__code="treatment").order_by("number")
        self.assertEqual([(r.number, r.values["line_type"]) for r in lines], [(1, "surgery"), (2, "chemotherapy")])
        self.assertEqual(lines[0].history.first().history_user, self.dm_padova)

        data = page_data(self.client.get(self.url))
        self.assertEqual(data["treatment-row"], ["1", "2"])
        data["treatment-row"] = ["2"]  # the first line removed in the browser
        self.client.post(self.url, data)
        lines = FormRecord.objects.filter(case=self.case, form__code="treatment")
        self.assertEqual([r.values["line_type"] for r in lines], ["chemotherapy"])

    def test_an_invalid_row_is_shown_beside_its_field_and_nothing_is_saved(self):
        data = page_data(self.client.get(self.url))
        data["treatment-row"] = ["new1"]
        data |= treatment("new1", line_type="surgery", treatment_start_date="2030-13-01")
        data["diagnosis-diagnosis_date"] = "2024-02-11"
        response = self.client.post(self.url, data)
        self.assertEqual(response.status_code, 200)
        row = response.context["page"].repeating[0].rows[0][2]
        self.assertIn("treatment_start_date", row.errors)
        self.assertFalse(FormRecord.objects.filter(case=self.case, form__code="treatment").exists())
        self.assertEqual(FormRecord.objects.get(case=self.case, form__code="diagnosis").version, 1)

    def test_new_codes_reclassify_the_case(self):
        data = page_data(self.client.get(self.url))
        data["diagnosis-morphology"] = "8720/3"
        data["diagnosis-topography"] = "C44.5"
        data = {k: v for k, v in data.items() if not k.startswith("acc-")}
        self.client.post(self.url, data)
        self.case.refresh_from_db()
        self.assertEqual((self.case.entity.code, self.case.morphology), ("MELANOMA", "8720/3"))
        response = self.client.get(self.url)
        self.assertEqual([f.definition.code for f in response.context["page"].modules], ["melanoma"])

    def test_a_stale_save_shows_both_versions_and_saves_nothing(self):
        mine = page_data(self.client.get(self.url))
        theirs = page_data(self.client.get(self.url))
        theirs["diagnosis-diagnosis_date"] = "2024-02-12"
        self.client.post(self.url, theirs)
        mine["diagnosis-diagnosis_date"] = "2024-02-15"
        response = self.client.post(self.url, mine, headers={"accept-language": "it"})
        self.assertEqual(response.status_code, 409)
        clash = response.context["clashes"][0]
        changed = [(r["mine"], r["saved"]) for r in clash["rows"] if r["differs"]]
        self.assertEqual(changed, [("15/02/2024", "12/02/2024")])
        self.assertEqual(clash["who"], self.dm_padova)
        diagnosis = FormRecord.objects.get(case=self.case, form__code="diagnosis")
        self.assertEqual((diagnosis.values["diagnosis_date"], diagnosis.version), ("2024-02-12", 2))
        # The editor chooses to keep their values: the page re-posts them against the current version.
        repost = {}
        for name, value in response.context["repost"]:
            repost.setdefault(name, []).append(value)
        repost["seen"] = response.context["current"]
        self.client.post(self.url, repost)
        diagnosis.refresh_from_db()
        self.assertEqual((diagnosis.values["diagnosis_date"], diagnosis.version), ("2024-02-15", 3))

    def test_a_validated_case_goes_back_to_submitted_when_changed(self):
        TumourCase.objects.filter(pk=self.case.pk).update(status=Status.VALIDATED)
        data = page_data(self.client.get(self.url))
        data["diagnosis-diagnosis_date"] = "2024-02-11"
        response = self.client.post(self.url, data)  # past the draft, a save needs a complete case
        self.assertIn("basis_of_diagnosis", response.context["page"].singles[1].errors)
        test_status.StatusWorkflowTests._complete(self)
        data = page_data(self.client.get(self.url))
        data["diagnosis-diagnosis_date"] = "2024-02-11"
        self.client.post(self.url, data)
        self.case.refresh_from_db()
        self.assertEqual(self.case.status, Status.SUBMITTED)

    def test_a_locked_case_cannot_be_edited(self):
        TumourCase.objects.filter(pk=self.case.pk).update(status=Status.LOCKED)
        response = self.client.get(self.url)
        self.assertRedirects(response, reverse("cases:detail", args=[self.case.pk]), fetch_redirect_response=False)

    def test_out_of_scope_is_404(self):
        self.sign_in(self.client, self.dm_paris)
        self.assertEqual(self.client.get(self.url).status_code, 404)
        self.assertEqual(self.client.post(self.url, {"seen": "diagnosis:1:1"}).status_code, 404)


class ModuleTests(RegistryTestCase):
    def test_the_module_follows_the_codes(self):
        self.sign_in(self.client, self.dm_padova)
        url = reverse("cases:module")
        codes = {"diagnosis-morphology": "8370/3", "diagnosis-topography": "C74.0"}
        response = self.client.post(url, {**codes, "module-entity": ""})
        self.assertContains(response, 'name="acc-acc_virilisation"')
        self.assertEqual(self.client.post(url, {**codes, "module-entity": "ACC"}).status_code, 204)
        response = self.client.post(
            url, {"diagnosis-morphology": "8000/3", "diagnosis-topography": "C74.0", "module-entity": "ACC"}
        )
        self.assertNotContains(response, 'name="acc-')
        self.assertContains(response, 'value=""')


class RecordUpdateTests(RegistryTestCase):
    def test_new_codes_through_one_record_reclassify_the_case_and_reopen_validation(self):
        from partner.cases.records import update_record

        case = self.register(self.padova)
        TumourCase.objects.filter(pk=case.pk).update(status=Status.VALIDATED)
        case.refresh_from_db()
        diagnosis = FormRecord.objects.get(case=case, form__code="diagnosis")
        values = {**diagnosis.values, "morphology": "8720/3", "topography": "C44.5", "basis_of_diagnosis": "7"}
        update_record(
            dictionary=self.dictionary,
            case=case,
            form_code="diagnosis",
            number=1,
            values=values,
            version=1,
            user=self.nc_italy,
        )
        case.refresh_from_db()
        self.assertEqual((case.entity.code, case.topography, case.status), ("MELANOMA", "C44.5", Status.SUBMITTED))
