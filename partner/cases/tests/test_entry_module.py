"""The tumour module asked for as the codes are typed: dates and codes travel in the body, never in the URL."""

import re

from django.test import Client
from django.urls import reverse

from partner.cases.tests.test_edit import page_data
from partner.testing import RegistryTestCase

CODES = {
    "diagnosis-morphology": "8370/3",
    "diagnosis-topography": "C74.0",
    "diagnosis-diagnosis_date": "2023-05-06",
    "identity-date_of_birth": "2011-04-03",
}


def module_attributes(html: str) -> dict[str, str]:
    tag = re.search(r'<div id="module"([^>]*)>', html)
    assert tag is not None, "no module placeholder on the page"
    return dict(re.findall(r'([\w-]+)="([^"]*)"', tag.group(1)))


class ModuleRequestTests(RegistryTestCase):
    def setUp(self):
        self.sign_in(self.client, self.dm_padova)
        self.url = reverse("cases:module")

    def test_a_get_carrying_the_dates_and_codes_is_refused(self):
        response = self.client.get(self.url, {**CODES, "module-entity": ""})
        self.assertEqual(response.status_code, 405)
        self.assertNotIn(b"acc-acc_virilisation", response.content)

    def test_the_module_follows_the_codes_sent_in_the_body(self):
        response = self.client.post(self.url, {**CODES, "module-entity": ""})
        self.assertContains(response, 'name="acc-acc_virilisation"')
        self.assertEqual(self.client.post(self.url, {**CODES, "module-entity": "ACC"}).status_code, 204)
        response = self.client.post(self.url, {**CODES, "diagnosis-morphology": "8000/3", "module-entity": "ACC"})
        self.assertNotContains(response, 'name="acc-')

    def test_the_module_request_needs_the_csrf_token(self):
        client = Client(enforce_csrf_checks=True)
        self.sign_in(client, self.dm_padova)
        self.assertEqual(client.post(self.url, {**CODES, "module-entity": ""}).status_code, 403)
        page = client.get(reverse("cases:new")).content.decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        response = client.post(self.url, {**CODES, "module-entity": "", "csrfmiddlewaretoken": token})
        self.assertContains(response, 'name="acc-acc_virilisation"')

    def test_the_new_case_page_asks_with_a_post_that_sends_only_the_dates_codes_and_token(self):
        attributes = module_attributes(self.client.get(reverse("cases:new")).content.decode())
        self.assertEqual(attributes.get("hx-post"), self.url)
        self.assertNotIn("hx-get", attributes)
        sent = {name.strip() for name in attributes["hx-params"].split(",")}
        self.assertEqual(
            sent,
            {*CODES, "csrfmiddlewaretoken", "module-entity", "module-born", "module-case"},
        )

    def test_the_edit_page_asks_with_a_post_and_the_module_keeps_the_stored_values(self):
        case = self.register(self.padova)
        edit = reverse("cases:edit", args=[case.pk])
        self.client.post(edit, page_data(self.client.get(edit)) | {"acc-acc_weiss_score": "4"})
        response = self.client.get(edit)
        self.assertEqual(module_attributes(response.content.decode()).get("hx-post"), self.url)
        sent = {"module-case": case.pk, "module-born": response.context["born"], "module-entity": ""}
        response = self.client.post(
            self.url, {**sent, "diagnosis-morphology": "8370/3", "diagnosis-topography": "C74.0"}
        )
        self.assertContains(response, f'name="module-case" value="{case.pk}"')
        self.assertContains(response, 'name="acc-acc_weiss_score" value="4"')
