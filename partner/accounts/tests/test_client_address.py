"""The client's address comes from the trusted proxy's X-Forwarded-For when the registry runs behind one
(as deployed: gunicorn on a unix socket, where the connection has no address), and from the connection
otherwise; the unknown-token limiter, the log-in throttle and the access log all use it."""

from __future__ import annotations

from axes.models import AccessAttempt
from django.core.cache import cache
from django.test import RequestFactory, SimpleTestCase, override_settings

from partner.accounts.client import client_address
from partner.accounts.models import ApiToken
from partner.cases.models import AccessLog
from partner.testing import PASSWORD, RegistryTestCase

SOCKET = {"REMOTE_ADDR": ""}  # what gunicorn gives on its unix socket


def address(forwarded: str | None = None, remote: str = "", proxies: int = 0) -> str | None:
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    with override_settings(PARTNER_TRUSTED_PROXIES=proxies):
        return client_address(RequestFactory().get("/", **meta))


class ClientAddressTests(SimpleTestCase):
    def test_without_a_trusted_proxy_the_forwarded_header_is_not_believed(self) -> None:
        self.assertEqual(address("203.0.113.9", remote="10.0.0.1"), "10.0.0.1")

    def test_behind_one_proxy_the_client_is_the_address_the_proxy_added(self) -> None:
        self.assertEqual(address("203.0.113.9", proxies=1), "203.0.113.9")

    def test_an_address_the_client_sent_itself_is_not_believed(self) -> None:
        self.assertEqual(address("192.0.2.66, 203.0.113.9", proxies=1), "203.0.113.9")
        self.assertEqual(address("192.0.2.66, 203.0.113.9, 10.0.0.2", proxies=2), "203.0.113.9")

    def test_behind_a_proxy_a_request_without_the_header_has_the_connections_address(self) -> None:
        self.assertEqual(address(remote="127.0.0.1", proxies=1), "127.0.0.1")

    def test_ipv6_addresses_are_written_in_their_short_form(self) -> None:
        self.assertEqual(address("2001:DB8:0:0::1", proxies=1), "2001:db8::1")

    def test_no_address_or_a_malformed_one_is_none(self) -> None:
        self.assertIsNone(address())
        self.assertIsNone(address("203.0.113.9"))
        self.assertIsNone(address("not-an-address", proxies=1))
        self.assertIsNone(address("203.0.113.9\n", remote="", proxies=0))


@override_settings(PARTNER_TRUSTED_PROXIES=1)
class BehindTheProxyTests(RegistryTestCase):
    def setUp(self) -> None:
        cache.clear()
        self.addCleanup(cache.clear)

    def _api(self, key: str, client: str):
        headers = {"authorization": f"Bearer {key}", "x-forwarded-for": client}
        return self.client.get("/api/cases", headers=headers, **SOCKET)

    def test_one_client_sending_unknown_tokens_does_not_shut_the_api_for_the_others(self) -> None:
        _token, key = ApiToken.issue(self.dm_padova, "script")
        with override_settings(PARTNER_TOKEN_FAILURES_PER_MINUTE=3):
            for attempt in range(3):
                self.assertEqual(self._api(f"prt_wrong{attempt}", "203.0.113.9").status_code, 401)
            self.assertEqual(self._api(key, "203.0.113.9").status_code, 429)
            self.assertEqual(self._api(key, "198.51.100.7").status_code, 200)

    @override_settings(PARTNER_TRUSTED_PROXIES=0)
    def test_clients_without_a_known_address_are_not_counted_together(self) -> None:
        _token, key = ApiToken.issue(self.dm_padova, "script")
        with override_settings(PARTNER_TOKEN_FAILURES_PER_MINUTE=3):
            for attempt in range(5):
                self._api(f"prt_wrong{attempt}", "203.0.113.9")
            self.assertEqual(self._api(key, "198.51.100.7").status_code, 200)

    @override_settings(AXES_FAILURE_LIMIT=3)
    def test_the_log_in_throttle_counts_failures_per_client_address(self) -> None:
        for _ in range(5):
            self.client.post(
                "/accounts/login/",
                {"username": "dm.padova", "password": "wrong"},
                HTTP_X_FORWARDED_FOR="203.0.113.9",
                **SOCKET,
            )
        self.assertEqual(AccessAttempt.objects.get().ip_address, "203.0.113.9")
        response = self.client.post(
            "/accounts/login/",
            {"username": "dm.padova", "password": PASSWORD},
            HTTP_X_FORWARDED_FOR="198.51.100.7",
            **SOCKET,
        )
        self.assertRedirects(response, "/work/", fetch_redirect_response=False)

    def test_the_access_log_records_the_clients_address_for_a_page_and_the_api(self) -> None:
        case = self.register(self.padova)
        self.sign_in(self.client, self.dm_padova)
        page = self.client.get(f"/cases/{case.pk}/", HTTP_X_FORWARDED_FOR="192.0.2.5, 203.0.113.9", **SOCKET)
        self.assertEqual(page.status_code, 200)
        _token, key = ApiToken.issue(self.dm_padova, "script")
        answer = self.client.get(
            f"/api/cases/{case.pk}",
            headers={"authorization": f"Bearer {key}", "x-forwarded-for": "198.51.100.7"},
            **SOCKET,
        )
        self.assertEqual(answer.status_code, 200)
        reads = AccessLog.objects.filter(case=case).order_by("id")
        self.assertEqual([(r.channel, r.address) for r in reads], [("web", "203.0.113.9"), ("api", "198.51.100.7")])
