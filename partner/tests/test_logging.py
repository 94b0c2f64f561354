"""Production settings log an error in a view with its traceback and the request's id, to standard error,
without the query string or the body; no character from outside can start a log line of its own."""

from __future__ import annotations

import io
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse
from django.test import Client, SimpleTestCase, override_settings
from django.urls import path

from partner.accounts.logs import EscapingFormatter
from partner.testing import RegistryTestCase

RECORD_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ ")


def broken(request: HttpRequest) -> HttpResponse:
    raise IntegrityError('duplicate key value violates unique constraint "cases_patient_pseudonym_key"')


def fine(request: HttpRequest) -> HttpResponse:
    logging.getLogger("partner.tests").warning("answered")
    return HttpResponse("ok")


urlpatterns = [path("broken/", broken), path("fine/", fine)]


def registry_handler() -> logging.StreamHandler:
    """The handler settings.LOGGING gives Django's loggers (beside those of the test run)."""
    (handler,) = [h for h in logging.getLogger("django").handlers if isinstance(h.formatter, EscapingFormatter)]
    assert isinstance(handler, logging.StreamHandler)
    return handler


@contextmanager
def logged() -> Iterator[io.StringIO]:
    handler = registry_handler()
    written = io.StringIO()
    previous = handler.setStream(written)
    try:
        yield written
    finally:
        handler.setStream(previous or sys.stderr)


@override_settings(ROOT_URLCONF=__name__)
class ErrorLoggingTests(RegistryTestCase):
    def test_an_error_in_a_view_is_logged_with_its_traceback_and_request_id_but_not_the_query_or_body(self) -> None:
        self.sign_in(self.client, self.dm_padova)
        self.client.raise_request_exception = False
        with logged() as log:
            response = self.client.post("/broken/?family=Rossi", {"given": "Giulia", "born": "2012-05-04"})
        self.assertEqual(response.status_code, 500)
        request_id = response["X-Request-ID"]
        self.assertRegex(request_id, r"^[0-9a-f]{32}$")
        text = log.getvalue()
        self.assertIn(f"ERROR django.request [{request_id}] Internal Server Error: /broken/", text)
        self.assertIn("Traceback (most recent call last):", text)
        self.assertIn("IntegrityError: duplicate key value", text)
        for identifying in ("Rossi", "Giulia", "2012-05-04", "family="):
            self.assertNotIn(identifying, text)

    def test_every_record_of_a_request_carries_its_id(self) -> None:
        with logged() as log:
            response = Client().get("/fine/")
        self.assertIn(f"WARNING partner.tests [{response['X-Request-ID']}] answered", log.getvalue())

    def test_the_proxys_request_id_is_taken_only_when_the_proxy_is_trusted(self) -> None:
        with override_settings(PARTNER_TRUSTED_PROXIES=1):
            self.assertEqual(Client().get("/fine/", HTTP_X_REQUEST_ID="4f1c2a")["X-Request-ID"], "4f1c2a")
            forged = Client().get("/fine/", HTTP_X_REQUEST_ID="x\n2026-01-01 ERROR forged")["X-Request-ID"]
            self.assertRegex(forged, r"^[0-9a-f]{32}$")
        self.assertNotEqual(Client().get("/fine/", HTTP_X_REQUEST_ID="4f1c2a")["X-Request-ID"], "4f1c2a")


class EscapingTests(SimpleTestCase):
    def test_a_line_break_from_outside_cannot_start_a_record_of_its_own(self) -> None:
        forged = "/cases/\n2026-01-01 00:00:00,000 ERROR django.request [-] forged\x1b[2J"
        try:
            raise ValueError(f"no such page: {forged}")
        except ValueError:
            with logged() as log:
                logging.getLogger("partner.tests").exception("Not Found: %s", forged)
        lines = log.getvalue().rstrip("\n").split("\n")
        self.assertEqual([line for line in lines if RECORD_START.match(line)], [lines[0]])
        self.assertIn(r"Not Found: /cases/\n2026-01-01 00:00:00,000 ERROR django.request [-] forged\x1b[2J", lines[0])
        self.assertIn("Traceback (most recent call last):", lines[1])
        self.assertTrue(all(line.startswith("    ") for line in lines[1:]), lines)
        self.assertNotIn("\x1b", log.getvalue())
