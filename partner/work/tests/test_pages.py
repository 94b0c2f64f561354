"""The My work page and GET /api/work: the same content, every link answering, log-in landing there."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.test import Client
from django.urls import resolve
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from partner.accounts.models import ApiToken
from partner.testing import PASSWORD
from partner.work.worklist import as_data, work_for

from .story import WorkStory

USERS = ("dm_padova", "dm_paris", "clinician", "nc_italy", "european", "expert", "researcher")

ITEM = re.compile(
    r'<li class="card[^"]*" id="work-[^"]+" data-key="([^"]+)" data-count="(\d+)">\s*<a class="item" href="([^"]+)"'
)


def page_items(html: str) -> list[tuple[str, int, str]]:
    return [(key, int(count), unescape(url)) for key, count, url in ITEM.findall(html)]


class PageTests(WorkStory):
    def test_each_role_sees_its_items_with_their_counts_and_links(self) -> None:
        for name in USERS:
            user = getattr(self, name)
            with self.subTest(user=name):
                client = Client()
                self.sign_in(client, user)
                response = client.get("/work/")
                self.assertEqual(response.status_code, 200)
                expected = [(item.key, item.count, item.url) for item in work_for(user)]
                self.assertTrue(expected)
                self.assertEqual(page_items(response.content.decode()), expected)

    def test_an_item_with_nothing_waiting_is_shown_but_set_apart(self) -> None:
        self.sign_in(self.client, self.dm_padova)
        html = self.client.get("/work/").content.decode()
        self.assertRegex(
            html, r'<li class="card none" id="work-recommendations" data-key="recommendations" data-count="0">'
        )
        self.assertRegex(html, r'<li class="card" id="work-drafts" data-key="drafts" data-count="2">')
        self.assertIn("nothing waiting", html)

    def test_a_new_query_is_listed_with_a_link_to_it(self) -> None:
        self.sign_in(self.client, self.dm_padova)
        html = self.client.get("/work/").content.decode()
        self.assertIn(f'<a href="/quality/queries/{self.waiting_query.pk}/">Case {self.recent.pk} · ', html)
        self.assertIn(">new query</span>", html)

    def test_the_navigation_names_my_work_first(self) -> None:
        self.sign_in(self.client, self.dm_padova)
        html = self.client.get("/work/").content.decode()
        nav = html.split('<nav class="main" aria-label="Main">', 1)[1]
        self.assertTrue(nav.lstrip().startswith('<a href="/work/" aria-current="page">My work</a>'), nav[:200])

    def test_an_anonymous_visitor_is_sent_to_log_in(self) -> None:
        response = self.client.get("/work/")
        self.assertRedirects(response, "/accounts/login/?next=/work/", fetch_redirect_response=False)


class LinkTests(WorkStory):
    def test_every_link_resolves_and_opens_for_the_same_user(self) -> None:
        for name in USERS:
            user = getattr(self, name)
            client = Client()
            self.sign_in(client, user)
            for item in work_for(user):
                for url in [item.url, *(row.url for row in item.rows)]:
                    with self.subTest(user=name, url=url):
                        resolve(urlsplit(url).path)
                        self.assertEqual(client.get(url).status_code, 200)


class ApiTests(WorkStory):
    def get(self, user: Any, **headers: str) -> Any:
        token = ApiToken.issue(user, "work")[1]
        return self.client.get("/api/work", headers={"Authorization": f"Bearer {token}", **headers})

    def test_the_api_gives_what_the_page_shows(self) -> None:
        for name in USERS:
            user = getattr(self, name)
            with self.subTest(user=name):
                answer = self.get(user).json()
                client = Client()
                self.sign_in(client, user)
                shown = page_items(client.get("/work/").content.decode())
                self.assertEqual([(i["key"], i["count"], i["url"]) for i in answer["items"]], shown)
                self.assertEqual(answer["items"], as_data(work_for(user)))
                self.assertEqual(answer["waiting"], sum(i["count"] for i in answer["items"]))

    def test_the_web_session_reads_it_too(self) -> None:
        self.sign_in(self.client, self.dm_padova)
        answer = self.client.get("/api/work").json()
        self.assertEqual(answer["items"][0]["key"], "drafts")

    def test_the_answer_is_in_the_language_asked_for(self) -> None:
        (item,) = self.get(self.researcher, accept_language="it").json()["items"]
        self.assertEqual(item["rows"][0]["detail"], "inviato")

    def test_without_a_token_or_a_session_the_answer_is_401(self) -> None:
        self.assertEqual(self.client.get("/api/work").status_code, 401)

    def test_the_operation_is_described_with_its_answer(self) -> None:
        description = self.client.get("/api/openapi.json").json()
        responses = description["paths"]["/api/work"]["get"]["responses"]
        self.assertEqual(
            responses["200"]["content"]["application/json"]["schema"], {"$ref": "#/components/schemas/WorkOut"}
        )
        self.assertIn("401", responses)


class LogInTests(WorkStory):
    def test_a_data_manager_lands_on_my_work(self) -> None:
        response = self.client.post("/accounts/login/", {"username": "dm.padova", "password": PASSWORD})
        self.assertRedirects(response, "/work/", fetch_redirect_response=False)
        self.assertEqual(settings.LOGIN_REDIRECT_URL, "/work/")

    def test_a_coordinator_lands_on_my_work_after_the_second_factor(self) -> None:
        device = TOTPDevice.objects.create(user=self.nc_italy, name="phone", confirmed=True)
        response = self.client.post("/accounts/login/", {"username": "nc.italy", "password": PASSWORD}, follow=True)
        self.assertEqual(response.redirect_chain[-1][0], "/accounts/second-factor/?next=%2Fwork%2F")
        token = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
        response = self.client.post("/accounts/second-factor/?next=/work/", {"token": token})
        self.assertRedirects(response, "/work/", fetch_redirect_response=False)

    def test_the_second_factor_without_a_next_page_lands_on_my_work(self) -> None:
        device = TOTPDevice.objects.create(user=self.nc_italy, name="phone", confirmed=True)
        self.client.force_login(self.nc_italy)
        token = f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"
        response = self.client.post("/accounts/second-factor/", {"token": token})
        self.assertRedirects(response, "/work/", fetch_redirect_response=False)
