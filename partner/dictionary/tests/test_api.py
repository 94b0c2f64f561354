from partner.testing import RegistryTestCase


class DictionaryApiTests(RegistryTestCase):
    def test_it_lists_the_entities_in_the_asked_language(self):
        response = self.client.get("/api/dictionary/entities", {"lang": "it"})
        self.assertEqual(response.status_code, 200)
        acc = next(e for e in response.json() if e["code"] == "ACC")
        self.assertEqual(acc["name"], acc["names"]["it"])
        self.assertEqual((acc["iccc_group"], acc["iccc_extended"]), ("XIa", "093"))
        self.assertTrue(acc["modules"])

    def test_it_follows_the_accept_language_header(self):
        response = self.client.get("/api/dictionary/forms/registration", headers={"accept-language": "pl"})
        data = response.json()
        self.assertEqual(data["label"], data["labels"]["pl"])
        sex = next(f for f in data["fields"] if f["code"] == "sex")
        self.assertEqual(sex["mappings"]["eu_cde"], "2.2")
        self.assertEqual(sex["choices"][0]["label"], sex["choices"][0]["labels"]["pl"])

    def test_an_unknown_entity_or_form_is_404(self):
        self.assertEqual(self.client.get("/api/dictionary/entities/NOPE").status_code, 404)
        self.assertEqual(self.client.get("/api/dictionary/forms/nope").status_code, 404)
        self.assertEqual(self.client.get("/api/dictionary/forms", {"version": 99}).status_code, 404)

    def test_it_classifies_codes(self):
        response = self.client.get(
            "/api/dictionary/classify", {"morphology": "8158/3", "topography": "C74.0", "age_years": 3}
        )
        self.assertEqual(response.json()["entity"], "ACC")
        response = self.client.get(
            "/api/dictionary/classify", {"morphology": "8158/3", "topography": "C64.9", "age_years": 3}
        )
        self.assertNotEqual(response.json()["entity"], "ACC")

    def test_a_bad_code_is_a_400_with_the_reason(self):
        response = self.client.get("/api/dictionary/classify", {"morphology": "83A0/3", "topography": "C74.0"})
        self.assertEqual(response.status_code, 400)
        self.assertIn("83A0/3", response.json()["detail"])

    def test_the_openapi_description_lists_the_dictionary_endpoints(self):
        paths = self.client.get("/api/openapi.json").json()["paths"]
        for path in (
            "/api/dictionary/entities",
            "/api/dictionary/forms/{code}",
            "/api/dictionary/classify",
            "/api/dictionary/versions",
        ):
            self.assertIn(path, paths)
