"""Nothing typed on the entry pages is cut, rounded or read as something else: it is refused beside its field."""

from django.urls import reverse

from partner.cases.models import FormRecord, TumourCase
from partner.cases.tests.test_edit import page_data
from partner.cases.tests.test_entry_countries import Controls
from partner.cases.tests.test_new_case import post_data
from partner.testing import RegistryTestCase


def form_of(response, code):
    page = response.context["page"]
    return next(f for f in page.singles + page.modules if f.definition.code == code)


class NewCaseRefusalTests(RegistryTestCase):
    def setUp(self):
        self.sign_in(self.client, self.dm_padova)
        self.url = reverse("cases:new")

    def test_no_field_of_the_page_lets_the_browser_cut_or_drop_what_is_typed(self):
        controls = Controls(self.client.get(self.url).content.decode())
        self.assertEqual([i["name"] for i in controls.inputs if "maxlength" in i], [])
        # A number input the browser cannot read is sent empty, and the answer vanishes.
        self.assertEqual([i["name"] for i in controls.inputs if i.get("type") == "number"], [])
        numbers = [i for i in controls.inputs if i.get("data-field") == "chemo_cycles"]
        self.assertEqual(numbers[0].get("inputmode"), "numeric")

    def test_a_name_longer_than_kept_is_refused_beside_the_field(self):
        response = self.client.post(self.url, post_data(**{"identity-family_names": "B" * 201}))
        self.assertIn("family_names", response.context["identity"].errors)
        self.assertEqual(TumourCase.objects.count(), 0)

    def test_a_date_with_anything_after_the_day_is_refused_not_cut(self):
        for typed in ("2023-05-061", "2023-05-06T10:00", "2023-05-06 and 07"):
            with self.subTest(typed=typed):
                response = self.client.post(self.url, post_data(**{"diagnosis-diagnosis_date": typed}))
                self.assertEqual(response.status_code, 200)
                self.assertIn("diagnosis_date", form_of(response, "diagnosis").errors)
        self.assertEqual(TumourCase.objects.count(), 0)

    def test_a_whole_number_written_with_a_separator_is_refused_not_read_as_another(self):
        npc = {"diagnosis-morphology": "8070/3", "diagnosis-topography": "C11.9"}
        for typed in ("12,000", "12.000", "12 000", "1e4"):
            with self.subTest(typed=typed):
                response = self.client.post(self.url, post_data(**npc, **{"npc-npc_ebv_dna_dx": typed}))
                self.assertEqual(response.status_code, 200)
                self.assertIn("npc_ebv_dna_dx", form_of(response, "npc").errors)
        self.assertEqual(TumourCase.objects.count(), 0)
        self.client.post(self.url, post_data(**npc, **{"npc-npc_ebv_dna_dx": "12000"}))
        self.assertEqual(FormRecord.objects.get(form__code="npc").values["npc_ebv_dna_dx"], 12000)

    def test_an_error_on_the_date_of_birth_is_shown_beside_the_identity_field(self):
        response = self.client.post(self.url, post_data(**{"identity-date_of_birth": "2999-01-01"}))
        self.assertIn("date_of_birth", response.context["identity"].errors)
        self.assertEqual(response.context["problems"], [])
        self.assertEqual(TumourCase.objects.count(), 0)


class EditRefusalTests(RegistryTestCase):
    def setUp(self):
        self.case = self.register(self.padova)  # an adrenocortical carcinoma: the ACC module applies
        self.sign_in(self.client, self.dm_padova)
        self.url = reverse("cases:edit", args=[self.case.pk])

    def test_a_decimal_with_more_places_than_the_field_keeps_is_refused_not_rounded(self):
        # 4.96 cm rounded to 5.0 would move the tumour across ENSAT's 5 cm line between stages I and II.
        data = page_data(self.client.get(self.url)) | {"acc-acc_largest_diameter_cm": "4.96"}
        response = self.client.post(self.url, data)
        self.assertEqual(response.status_code, 200)
        self.assertIn("acc_largest_diameter_cm", form_of(response, "acc").errors)
        self.assertFalse(FormRecord.objects.filter(case=self.case, form__code="acc").exists())

    def test_a_decimal_within_the_places_kept_is_stored_as_typed(self):
        for typed, stored in (("4.9", 4.9), ("4,9", 4.9), ("4.90", 4.9), ("5", 5.0)):
            with self.subTest(typed=typed):
                data = page_data(self.client.get(self.url)) | {"acc-acc_largest_diameter_cm": typed}
                response = self.client.post(self.url, data)
                self.assertEqual(response.status_code, 302, response.context and response.context["problems"])
                record = FormRecord.objects.get(case=self.case, form__code="acc")
                self.assertEqual(record.values["acc_largest_diameter_cm"], stored)

    def test_a_stored_value_shown_again_is_saved_again_unchanged(self):
        data = page_data(self.client.get(self.url)) | {"acc-acc_tumour_volume_cm3": "1200", "acc-acc_weiss_score": "4"}
        self.client.post(self.url, data)
        record = FormRecord.objects.get(case=self.case, form__code="acc")
        response = self.client.post(self.url, page_data(self.client.get(self.url)))
        self.assertEqual(response.status_code, 302)
        record.refresh_from_db()
        self.assertEqual((record.version, record.values["acc_tumour_volume_cm3"]), (1, 1200))

    def test_a_treatment_row_with_a_cut_date_is_refused_beside_its_field(self):
        data = page_data(self.client.get(self.url))
        data["treatment-row"] = ["new1"]
        data |= {"treatment-new1-line_type": "surgery", "treatment-new1-treatment_start_date": "2024-03-011"}
        response = self.client.post(self.url, data)
        row = response.context["page"].repeating[0].rows[0][2]
        self.assertIn("treatment_start_date", row.errors)
        self.assertFalse(FormRecord.objects.filter(case=self.case, form__code="treatment").exists())


class UnlistedValueTests(RegistryTestCase):
    """A stored value the list does not hold (UK for GB, as an import may bring it) stays in sight."""

    def setUp(self):
        self.case = self.register(self.padova)
        # Stored before the validator knew the list: no path stores it any more.
        record = FormRecord.objects.get(case=self.case, form__code="registration")
        FormRecord.objects.filter(pk=record.pk).update(values={**record.values, "country_of_residence": "UK"})
        self.sign_in(self.client, self.dm_padova)
        self.url = reverse("cases:edit", args=[self.case.pk])

    def stored(self):
        return FormRecord.objects.get(case=self.case, form__code="registration").values["country_of_residence"]

    def test_it_is_shown_chosen_and_marked_not_as_an_empty_answer(self):
        controls = Controls(self.client.get(self.url).content.decode())
        options = controls.options["registration-country_of_residence"]
        chosen = [(value, label) for value, label, selected in options if selected]
        self.assertEqual(len(chosen), 1)
        self.assertEqual(chosen[0][0], "UK")
        self.assertIn("not in the list", chosen[0][1])

    def test_a_save_refuses_it_beside_the_field_until_a_country_is_chosen(self):
        response = self.client.post(self.url, page_data(self.client.get(self.url)))
        self.assertEqual(response.status_code, 200)
        self.assertIn("country_of_residence", form_of(response, "registration").errors)
        self.assertEqual(self.stored(), "UK")
        data = page_data(self.client.get(self.url)) | {"registration-country_of_residence": "GB"}
        self.assertEqual(self.client.post(self.url, data).status_code, 302)
        self.assertEqual(self.stored(), "GB")
