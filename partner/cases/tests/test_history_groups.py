"""The case history, one group a save: its author, its time and the fields changed in form order."""

from django.urls import reverse

from partner.cases.models import FormRecord
from partner.cases.tests.test_edit import page_data, treatment
from partner.testing import RegistryTestCase


class TheHistoryIsGroupedBySave(RegistryTestCase):
    def setUp(self):
        self.case = self.register(self.padova)
        self.edit = reverse("cases:edit", args=[self.case.pk])
        self.history = reverse("cases:history", args=[self.case.pk])

    def save(self, user, **values):
        self.sign_in(self.client, user)
        data = page_data(self.client.get(self.edit))
        data |= values
        response = self.client.post(self.edit, data)
        self.assertEqual(response.status_code, 302, response.context and response.context["summary"])

    def test_two_saves_a_moment_apart_are_two_groups_newest_first_with_their_authors(self):
        self.save(self.dm_padova, **{"diagnosis-topography": "C74.1"})
        self.save(self.nc_italy, **{"diagnosis-topography": "C74.9"})
        self.sign_in(self.client, self.dm_padova)
        saves = self.client.get(self.history).context["saves"]
        latest, earlier, created = saves
        self.assertEqual((latest.who, earlier.who, created.who), (self.nc_italy, self.dm_padova, None))
        self.assertGreater(latest.when, earlier.when)
        topography = [(c.field, c.old, c.new) for c in latest.changes if c.form == "Diagnosis"]
        self.assertEqual(topography, [("Topography (ICD-O-3)", "C74.1", "C74.9")])
        # The case's copy of the code is not shown a second time.
        self.assertEqual(
            [c for c in latest.changes if c.new == "C74.9"], [c for c in latest.changes if c.form == "Diagnosis"]
        )

    def test_one_save_over_several_forms_lists_its_fields_in_the_dictionarys_order(self):
        values = {
            "diagnosis-basis_of_diagnosis": "7",
            "diagnosis-topography": "C74.1",
            "diagnosis-laterality": "left",
            "acc-acc_weiss_score": "4",
        }
        values |= {"treatment-row": ["new1"]} | treatment(
            "new1", line_type="chemotherapy", treatment_start_date="2024-03-01"
        )
        values |= {"registration-country_of_residence": "IT"}
        self.save(self.dm_padova, **values)
        self.sign_in(self.client, self.dm_padova)
        response = self.client.get(self.history)
        save = response.context["saves"][0]
        self.assertEqual(save.who, self.dm_padova)
        forms = [c.form for c in save.changes]
        order = ["Registration", "Diagnosis", "Adrenocortical carcinoma", "Treatment"]
        self.assertEqual(sorted(set(forms), key=forms.index), order)
        d = self.dictionary.form_by_code["diagnosis"]
        labels = [f.labels.en for f in d.fields]
        fields = [c.field for c in save.changes if c.form == "Diagnosis"]
        self.assertEqual(fields, [label for label in labels if label in fields])
        self.assertEqual(fields[0], "Topography (ICD-O-3)")
        self.assertContains(response, "Saved on")
        self.assertContains(response, "dm.padova")

    def test_a_removed_row_is_shown_in_the_save_that_removed_it(self):
        self.save(self.dm_padova, **{"treatment-row": ["new1"]}, **treatment("new1", line_type="chemotherapy"))
        self.save(self.dm_padova, **{"treatment-row": []})
        self.assertFalse(FormRecord.objects.filter(case=self.case, form__code="treatment").exists())
        self.sign_in(self.client, self.dm_padova)
        removal = self.client.get(self.history).context["saves"][0]
        self.assertIn(("Treatment", "Chemotherapy", ""), [(c.form, c.old, c.new) for c in removal.changes])
