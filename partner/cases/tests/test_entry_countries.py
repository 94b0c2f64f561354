"""Countries on the entry pages: picked from ISO 3166, named in the page's language, never cut."""

from html.parser import HTMLParser

from django.conf import settings
from django.urls import reverse

from partner.cases.models import FormRecord, Patient, TumourCase
from partner.cases.tests.test_new_case import post_data
from partner.lib.pseudonym import Identity, pseudonym
from partner.testing import RegistryTestCase


class Controls(HTMLParser):
    """The form controls of a page: each select's options, and every input and select's attributes."""

    def __init__(self, html: str):
        super().__init__()
        self.options: dict[str, list[tuple[str, str, bool]]] = {}
        self.inputs: list[dict[str, str]] = []
        self.selects: list[dict[str, str]] = []
        self._select: str | None = None
        self._option: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = {k: v or "" for k, v in attrs}
        if tag == "select":
            self._select = attributes.get("name", "")
            self.selects.append(attributes)
            self.options[self._select] = []
        elif tag == "option" and self._select is not None:
            self._option = [attributes.get("value", ""), "", "selected" in attributes]
        elif tag in ("input", "textarea"):
            self.inputs.append(attributes)

    def handle_data(self, data):
        if self._option is not None:
            self._option[1] += data

    def handle_endtag(self, tag):
        if tag == "option" and self._option is not None and self._select is not None:
            value, label, selected = self._option
            self.options[self._select].append((value, label.strip(), selected))
            self._option = None
        elif tag == "select":
            self._select = None


def labels(controls: Controls, name: str) -> dict[str, str]:
    return {value: label for value, label, _selected in controls.options[name]}


class CountryOfBirthTests(RegistryTestCase):
    def setUp(self):
        self.sign_in(self.client, self.dm_padova)
        self.url = reverse("cases:new")

    def test_the_country_of_birth_is_picked_from_iso_countries_named_in_the_pages_language(self):
        for language, names in (
            ("it", ("Italia", "Germania", "Georgia")),
            ("de", ("Italien", "Deutschland", "Georgien")),
        ):
            with self.subTest(language=language):
                controls = Controls(self.client.get(self.url, headers={"accept-language": language}).content.decode())
                countries = labels(controls, "identity-country_of_birth")
                self.assertEqual((countries["IT"], countries["DE"], countries["GE"]), names)
                self.assertEqual(countries[""], "—")
                self.assertGreaterEqual(len(countries), 249)

    def test_the_countries_are_in_alphabetical_order_of_their_names_in_the_pages_language(self):
        controls = Controls(self.client.get(self.url, headers={"accept-language": "de"}).content.decode())
        names = [label for value, label, _s in controls.options["identity-country_of_birth"] if value]
        self.assertLess(names.index("Österreich"), names.index("Polen"))
        self.assertLess(names.index("Deutschland"), names.index("Frankreich"))

    def test_a_country_not_in_the_list_is_refused_beside_the_field_and_nothing_is_saved(self):
        for typed in ("Italia", "It", "it", "ZZ", ""):
            with self.subTest(typed=typed):
                response = self.client.post(self.url, post_data(**{"identity-country_of_birth": typed}))
                self.assertEqual(response.status_code, 200)
                self.assertIn("country_of_birth", response.context["identity"].errors)
                self.assertContains(response, "message error")
        self.assertEqual(TumourCase.objects.count(), 0)

    def test_the_chosen_country_derives_the_pseudonym(self):
        self.client.post(self.url, post_data(**{"identity-country_of_birth": "DE"}))
        born = Patient.objects.get().date_of_birth
        expected = pseudonym(
            Identity("Zofia Maria", "Wiśniewska-Kowalczyk", born, "female", "DE"), settings.PSEUDONYM_KEY
        )
        self.assertEqual(Patient.objects.get().pseudonym, expected)


class CountryOfResidenceTests(RegistryTestCase):
    """The dictionary's ISO 3166 fields (country of residence) use the same list."""

    def setUp(self):
        self.sign_in(self.client, self.dm_padova)
        self.url = reverse("cases:new")

    def test_the_country_of_residence_is_picked_from_the_same_list(self):
        controls = Controls(self.client.get(self.url, headers={"accept-language": "it"}).content.decode())
        countries = labels(controls, "registration-country_of_residence")
        self.assertEqual((countries[""], countries["DE"], countries["AT"]), ("—", "Germania", "Austria"))
        self.assertEqual(countries, labels(controls, "identity-country_of_birth"))

    def test_a_country_of_residence_not_in_the_list_is_refused_beside_the_field(self):
        for typed in ("ZZ", "Germania"):
            with self.subTest(typed=typed):
                response = self.client.post(self.url, post_data(**{"registration-country_of_residence": typed}))
                self.assertEqual(response.status_code, 200)
                registration = next(f for f in response.context["page"].singles if f.definition.code == "registration")
                self.assertIn("country_of_residence", registration.errors)
        self.assertEqual(TumourCase.objects.count(), 0)

    def test_a_chosen_country_of_residence_is_stored_as_its_code(self):
        self.client.post(self.url, post_data(**{"registration-country_of_residence": "AT"}))
        record = FormRecord.objects.get(form__code="registration")
        self.assertEqual(record.values["country_of_residence"], "AT")
