"""Registering a case on the web: forms generated from the dictionary, the names never stored."""

from django.db import connection
from django.urls import reverse

from partner.cases.models import Patient, TumourCase
from partner.testing import RegistryTestCase


def post_data(**overrides):
    data = {
        "identity-given_names": "Zofia Maria",
        "identity-family_names": "Wiśniewska-Kowalczyk",
        "identity-date_of_birth": "2011-04-03",
        "identity-sex": "female",
        "identity-country_of_birth": "PL",
        "diagnosis-diagnosis_date": "2023-05-06",
        "diagnosis-morphology": "8370/3",
        "diagnosis-topography": "C74.0",
    }
    data.update(overrides)
    return data


class NewCaseTests(RegistryTestCase):
    def test_the_page_shows_the_dictionary_fields_with_their_conditions(self):
        self.sign_in(self.client, self.dm_padova)
        response = self.client.get(reverse("cases:new"))
        self.assertContains(response, 'name="diagnosis-morphology"')
        self.assertContains(
            response, 'data-show-if="[&quot;cmp&quot;, &quot;Eq&quot;, [&quot;name&quot;, &quot;patient_status&quot;]'
        )
        self.assertNotContains(response, 'name="registration-pseudonym"')

    def test_a_registered_case_keeps_no_trace_of_the_names(self):
        self.sign_in(self.client, self.dm_padova)
        response = self.client.post(reverse("cases:new"), post_data())
        case = TumourCase.objects.get()
        self.assertRedirects(response, reverse("cases:detail", args=[case.pk]), fetch_redirect_response=False)
        self.assertEqual((case.entity.code, case.centre, case.status), ("ACC", self.padova, "draft"))
        self.assertEqual(Patient.objects.get().sex, "female")
        with connection.cursor() as cursor:
            for table in connection.introspection.table_names():
                cursor.execute(f'SELECT * FROM "{table}"')
                dump = repr(cursor.fetchall())
                for name in ("Zofia", "Wiśniewska", "Kowalczyk", "ZOFIA", "WISNIEWSKA"):
                    self.assertNotIn(name, dump, f"{name} found in {table}")

    def test_an_error_is_shown_beside_its_field_in_the_users_language_and_nothing_is_saved(self):
        self.sign_in(self.client, self.dm_padova)
        response = self.client.post(
            reverse("cases:new"),
            post_data(**{"diagnosis-diagnosis_date": "2010-01-01"}),
            headers={"accept-language": "it"},
        )
        self.assertEqual(response.status_code, 200)
        form = next(f for f in response.context["page"].singles if f.definition.code == "diagnosis")
        self.assertEqual(form.errors["diagnosis_date"][0], "2010-01-01 è precedente alla data di nascita 2011-04-03")
        self.assertEqual(TumourCase.objects.count(), 0)

    def test_only_centre_staff_register_cases(self):
        self.sign_in(self.client, self.researcher)
        self.assertEqual(self.client.get(reverse("cases:new")).status_code, 403)
