from django.utils import translation

from partner.testing import RegistryTestCase

LANGUAGES = ("en", "it", "fr", "de", "pl")


class DictionaryPageTests(RegistryTestCase):
    def test_the_browser_shows_entities_and_forms_in_each_language(self):
        acc = self.dictionary.entity_by_code["ACC"]
        registration = self.dictionary.form_by_code["registration"]
        for lang in LANGUAGES:
            with self.subTest(lang=lang):
                response = self.client.get("/dictionary/", headers={"accept-language": lang})
                self.assertEqual(response.status_code, 200)
                self.assertContains(response, acc.names.get(lang))
                self.assertContains(response, registration.labels.get(lang))
        translation.activate("en")

    def test_the_entity_page_shows_codes_and_all_names(self):
        response = self.client.get("/dictionary/entities/ACC/")
        self.assertContains(response, "8370-8375")
        self.assertContains(response, "ORPHA:1501")
        for lang in LANGUAGES:
            self.assertContains(response, self.dictionary.entity_by_code["ACC"].names.get(lang))

    def test_the_form_page_shows_types_conditions_and_mappings(self):
        response = self.client.get("/dictionary/forms/status/")
        self.assertContains(response, "patient_status == &#x27;dead&#x27;")
        self.assertContains(response, "EU CDE 3.2")

    def test_the_filter_answers_htmx_with_the_table_alone(self):
        response = self.client.get("/dictionary/", {"q": "melanom"}, headers={"hx-request": "true"})
        self.assertNotContains(response, "<html")
        self.assertContains(response, "MELANOMA")
        self.assertNotContains(response, "PANCREATOBLASTOMA")

    def test_an_unknown_entity_page_is_404(self):
        self.assertEqual(self.client.get("/dictionary/entities/NOPE/").status_code, 404)


class HomePageTests(RegistryTestCase):
    def test_the_start_page_shows_the_dictionary_and_the_registry_counts(self):
        for i in range(6):
            self.register(self.padova, given=f"Child{i}", case_status="submitted")
        self.register(self.paris, morphology="8720/3", topography="C44.5", case_status="submitted")
        response = self.client.get("/")
        self.assertContains(response, self.dictionary.row.label)
        self.assertLessEqual(abs(response.context["case_count"] - 7), 2)  # released: changed by its cell key
        rows = {r["code"]: r["n"] for r in response.context["entity_rows"]}
        # 7 - 6 would give away the one melanoma: the six ACC are hidden with it.
        self.assertEqual(rows, {"ACC": "…", "MELANOMA": "…"})
        self.assertEqual([r["n"] for r in response.context["country_rows"]], ["…", "…"])

    def test_small_counts_need_no_more_hiding_when_two_are_small(self):
        for i in range(6):
            self.register(self.padova, given=f"Child{i}", case_status="submitted")
        self.register(self.paris, morphology="8720/3", topography="C44.5", case_status="submitted")
        self.register(self.paris, given="Lou", morphology="8230/3", topography="C18.7", case_status="submitted")
        rows = {r["code"]: r["n"] for r in self.client.get("/").context["entity_rows"]}
        self.assertLessEqual(abs(rows["ACC"] - 6), 2)
        self.assertEqual(rows["MELANOMA"], "…")

    def test_a_logged_in_user_sees_the_counts_of_their_scope(self):
        self.register(self.padova)
        self.register(self.paris, morphology="8720/3", topography="C44.5")
        self.sign_in(self.client, self.nc_italy)  # a coordinator: exact figures, drafts of their scope included
        response = self.client.get("/")
        self.assertEqual(response.context["case_count"], 1)
        self.assertEqual({r["code"]: r["n"] for r in response.context["entity_rows"]}, {"ACC": 1})
        self.sign_in(self.client, self.dm_paris)  # protected: one case is hidden
        response = self.client.get("/")
        self.assertEqual(response.context["case_count"], "…")
        self.assertEqual({r["code"]: r["n"] for r in response.context["entity_rows"]}, {"MELANOMA": "…"})
