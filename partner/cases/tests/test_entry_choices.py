"""Coded answers on the entry pages start empty: a skipped question is never recorded as its first choice."""

from django.urls import reverse

from partner.cases.models import TumourCase
from partner.cases.tests.test_entry_countries import Controls
from partner.cases.tests.test_new_case import post_data
from partner.testing import RegistryTestCase


class StartEmptyTests(RegistryTestCase):
    def setUp(self):
        self.sign_in(self.client, self.dm_padova)

    def assert_nothing_chosen(self, html: str) -> int:
        """Every select, radio and check box of `html` (but the language switcher) starts with no answer."""
        controls = Controls(html)
        selects = [s["name"] for s in controls.selects if s.get("name") != "language"]
        for name in selects:
            with self.subTest(select=name):
                options = controls.options[name]
                self.assertEqual(options[0][0], "", "the first option is the empty one")
                self.assertEqual([value for value, _label, selected in options if selected and value], [])
        for control in controls.inputs:
            if control.get("type") in ("radio", "checkbox"):
                with self.subTest(input=control.get("name")):
                    self.assertNotIn("checked", control)
        return len(selects)

    def test_sex_starts_empty(self):
        controls = Controls(self.client.get(reverse("cases:new")).content.decode())
        self.assertEqual(
            [(value, selected) for value, _label, selected in controls.options["identity-sex"]],
            [("", True), ("female", False), ("male", False), ("other", False), ("unknown", False)],
        )

    def test_no_coded_field_of_the_new_case_page_starts_with_an_answer(self):
        html = self.client.get(reverse("cases:new")).content.decode()
        self.assertGreater(self.assert_nothing_chosen(html), 20)

    def test_no_coded_field_of_a_tumour_module_starts_with_an_answer(self):
        codes = {"diagnosis-morphology": "8370/3", "diagnosis-topography": "C74.0", "module-entity": ""}
        response = self.client.post(reverse("cases:module"), codes)
        self.assertContains(response, 'name="acc-acc_virilisation"')
        self.assertGreater(self.assert_nothing_chosen(response.content.decode()), 5)

    def test_a_skipped_sex_is_refused_beside_the_field_and_nothing_is_saved(self):
        data = post_data()
        del data["identity-sex"]
        for sent in (data, {**data, "identity-sex": ""}, {**data, "identity-sex": "f"}):
            response = self.client.post(reverse("cases:new"), sent)
            self.assertEqual(response.status_code, 200)
            self.assertIn("sex", response.context["identity"].errors)
        self.assertEqual(TumourCase.objects.count(), 0)

    def test_the_errors_of_the_other_forms_are_shown_with_those_of_the_identity(self):
        data = post_data(**{"identity-sex": "", "diagnosis-morphology": "8370"})
        response = self.client.post(reverse("cases:new"), data)
        diagnosis = next(f for f in response.context["page"].singles if f.definition.code == "diagnosis")
        self.assertIn("sex", response.context["identity"].errors)
        self.assertIn("morphology", diagnosis.errors)
