"""Every API operation, fuzzed from the project's own OpenAPI description with schemathesis.

For each role, each operation gets PARTNER_FUZZ_EXAMPLES generated requests (default 20, deterministic):
none may answer 5xx, and every answer must be a documented status code with the documented content
type and a body that fits its schema. Path parameters and the case a body names are drawn half the
time from the records the registry holds, so the requests reach real cases, queries, requests and
consultations, not only 404s.
Each request runs in a savepoint that is rolled back, so one example's writes never reach the next.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from partner.accounts.models import ApiToken, Role
from partner.consult import services as consultations
from partner.consult.models import PanelMember
from partner.consult.tests.story import pdf
from partner.datarequests import services as datarequests
from partner.quality import queries
from partner.quality.models import Finding
from partner.testing import RegistryTestCase
from partner.wsgi import application

EXAMPLES = int(os.environ.get("PARTNER_FUZZ_EXAMPLES", "20"))

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
)


class ApiFuzzTests(RegistryTestCase):
    media: Any
    known: dict[str, list[Any]]

    @classmethod
    def setUpClass(cls) -> None:
        cls.media = tempfile.TemporaryDirectory()
        # schemathesis sends its requests to the WSGI application as host "localhost".
        cls.media_settings = override_settings(MEDIA_ROOT=cls.media.name, ALLOWED_HOSTS=["localhost"])
        cls.media_settings.enable()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        cls.media_settings.disable()
        cls.media.cleanup()

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        for user, country in ((cls.expert, cls.italy), (cls._user("expert.fr", Role.EXPERT), cls.france)):
            PanelMember.objects.create(user=user, panel="endocrine", country=country)
        padova = cls.register(
            cls.padova,
            # treated before the diagnosis date: a quality finding to list and confirm
            treatment=[{"line_type": "surgery", "treatment_start_date": "2024-01-10"}],
            follow_up=[{"event_type": "relapse", "event_date": "2025-01-10", "relapse_type": "metastatic"}],
        )
        paris = cls.register(cls.paris, given="Léa", family="Martin", born="2008-03-01", sex="male")
        melanoma = cls.register(cls.milano, given="Luca", morphology="8720/3", topography="C44.5", sex="male")
        query = queries.raise_query(padova, "diagnosis.morphology", "Is it 8370/3?", None, cls.nc_italy)
        request = datarequests.submit(
            user=cls.researcher,
            title="Relapse after surgery",
            purpose="Relapse-free survival after complete resection.",
            variables=["diagnosis.diagnosis_date", "registration.sex"],
            cohort={"entities": ["ACC"]},
        )
        consultation = consultations.submit(
            padova,
            cls.dm_padova,
            question="Adjuvant mitotane after a complete resection?",
            attachments=[("pathology", "report.pdf", pdf())],
        )
        cases = [padova, paris, melanoma]
        cls.known = {
            "case_id": [c.pk for c in cases],
            "pseudonym": [c.patient.pseudonym for c in cases],
            "form": ["registration", "diagnosis", "treatment", "follow_up"],
            "number": [1, 2],
            "query_id": [query.pk],
            "finding_id": list(Finding.objects.values_list("pk", flat=True)),
            "request_id": [request.pk],
            "consultation_id": [consultation.pk],
            "attachment_id": list(consultation.attachments.values_list("pk", flat=True)),
            "code": ["ACC", "registration", "diagnosis"],
        }

    def setUp(self) -> None:
        # The requests go straight to the WSGI application, in the test's transaction: like Django's
        # test client, keep the end of a request from closing the connection (and the transaction).
        for signal in (request_started, request_finished):
            signal.disconnect(close_old_connections)
            self.addCleanup(signal.connect, close_old_connections)

    def fuzz(self, user: Any) -> set[str]:
        """Fuzz every operation as `user`; the operations that answered 2xx at least once."""
        token = ApiToken.issue(user, "fuzz")[1]
        headers = {"Authorization": f"Bearer {token}"}
        schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
        # Every operation answers text with a NUL character with its documented 400 before reading anything
        # (partner/tests/test_api_inputs.py): generated here, it would take most examples of the larger bodies.
        schema.config.generation.update(allow_x00=False)
        operations = [result.ok() for result in schema.get_all_operations()]
        self.assertGreater(len(operations), 40)
        succeeded: set[str] = set()
        for operation in operations:
            with self.subTest(operation=operation.label):
                self.run_operation(operation, headers, succeeded)
        return succeeded

    def requests(self, operation: Any) -> st.SearchStrategy[schemathesis.Case]:
        """The operation's generated requests; half of them name records the registry holds."""
        generated = operation.as_strategy()
        names = [parameter.name for parameter in operation.path_parameters]
        if names and all(name in self.known for name in names):
            real = st.fixed_dictionaries({name: st.sampled_from(self.known[name]) for name in names})
            generated = st.one_of(generated, real.flatmap(lambda values: operation.as_strategy(path_parameters=values)))
        return st.tuples(generated, st.sampled_from([None, *self.known["case_id"]])).map(_naming_a_case)

    def run_operation(self, operation: Any, headers: dict[str, str], succeeded: set[str]) -> None:
        @FUZZ
        @given(case=self.requests(operation))
        def example(case: schemathesis.Case) -> None:
            with transaction.atomic():
                response = case.call_and_validate(headers=headers, checks=CHECKS)
                transaction.set_rollback(True)
            if response.status_code < 300:
                succeeded.add(operation.label)

        example()

    def test_a_data_manager_meets_no_server_error_and_no_answer_outside_the_schema(self) -> None:
        succeeded = self.fuzz(self.dm_padova)
        self.assertIn("GET /api/consultations/{consultation_id}", succeeded)
        self.assertGreaterEqual(len(succeeded), 10)

    def test_the_european_coordinator_meets_no_server_error_and_no_answer_outside_the_schema(self) -> None:
        succeeded = self.fuzz(self.european)
        self.assertIn("GET /api/quality/queries/{query_id}", succeeded)
        self.assertGreaterEqual(len(succeeded), 10)

    def test_a_researcher_meets_no_server_error_and_no_answer_outside_the_schema(self) -> None:
        succeeded = self.fuzz(self.researcher)
        self.assertIn("GET /api/requests/{request_id}", succeeded)
        self.assertGreaterEqual(len(succeeded), 10)


def _naming_a_case(drawn: tuple[schemathesis.Case, int | None]) -> schemathesis.Case:
    """The request, its body's case (a new query, a consultation) replaced by a registered one if one was drawn."""
    case, case_id = drawn
    if case_id is not None and isinstance(case.body, dict) and "case" in case.body:
        case.body["case"] = case_id
    return case


class ApiRefusalTests(RegistryTestCase):
    """What every operation answers before its own code runs, each answer checked against the description.

    The generated requests above rarely leave out the token or send a body that is not JSON, and their
    budget may spend every example on valid data: here each kind of refusal is sent, once, to every
    operation it applies to.
    """

    UNKNOWN_TOKEN = "prt_" + "0" * 43
    #: An address for the requests, which the token limiter counts by.
    ENVIRON = {"REMOTE_ADDR": "192.0.2.7"}

    @classmethod
    def setUpClass(cls) -> None:
        cls.hosts = override_settings(ALLOWED_HOSTS=["localhost"])
        cls.hosts.enable()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        cls.hosts.disable()

    def setUp(self) -> None:
        for signal in (request_started, request_finished):
            signal.disconnect(close_old_connections)
            self.addCleanup(signal.connect, close_old_connections)
        cache.clear()  # the unknown-token limiter's counts
        self.addCleanup(cache.clear)
        self.token = ApiToken.issue(self.dm_padova, "refusals")[1]
        schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)
        self.operations = [result.ok() for result in schema.get_all_operations()]
        self.assertGreater(len(self.operations), 40)

    def send(self, case: schemathesis.Case, expected: int | set[int], token: str | None = None, **kwargs: Any) -> None:
        """Send `case`; it must be answered `expected` (one of them), as the description documents it."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        with transaction.atomic():
            response = case.call_and_validate(
                headers={**headers, **kwargs.pop("headers", {})},
                checks=CHECKS,
                environ_base=self.ENVIRON,
                **kwargs,
            )
            transaction.set_rollback(True)
        self.assertIn(response.status_code, {expected} if isinstance(expected, int) else expected, response.text)

    @override_settings(PARTNER_TOKEN_FAILURES_PER_MINUTE=1000)
    def test_a_request_without_a_token_or_with_an_unknown_one_is_answered_401(self) -> None:
        guarded = [op for op in self.operations if "security" in op.definition.raw]
        self.assertGreater(len(guarded), 35)
        for operation in guarded:
            # A write without a session cookie is not a browser's: 401, never the CSRF check's 403.
            expected = {401}
            with self.subTest(operation=operation.label):
                self.send(operation.Case(path_parameters=_any_path(operation)), expected)
                self.send(operation.Case(path_parameters=_any_path(operation)), expected, token=self.UNKNOWN_TOKEN)

    def test_a_token_sent_after_too_many_unknown_ones_is_answered_429(self) -> None:
        guarded = [op for op in self.operations if "security" in op.definition.raw]
        with override_settings(PARTNER_TOKEN_FAILURES_PER_MINUTE=1):
            self.send(guarded[0].Case(path_parameters=_any_path(guarded[0])), 401, token=self.UNKNOWN_TOKEN)
            for operation in guarded:
                with self.subTest(operation=operation.label):
                    self.send(operation.Case(path_parameters=_any_path(operation)), 429, token=self.token)

    def test_parameters_and_bodies_of_the_wrong_type_are_answered_422(self) -> None:
        refused = 0
        for operation in self.operations:
            path, query = _wrong_parameters(operation)
            body = "not an object" if operation.body else NOT_SET
            if path == _any_path(operation, valid=True) and not query and body is NOT_SET:
                continue  # nothing in it can have the wrong type
            with self.subTest(operation=operation.label):
                case = operation.Case(path_parameters=path, query=query, body=body)
                self.send(case, 422, token=self.token)
                refused += 1
        self.assertGreater(refused, 40)

    def test_a_body_that_is_not_json_is_answered_400(self) -> None:
        with_body = [op for op in self.operations if op.body]
        self.assertGreater(len(with_body), 15)
        for operation in with_body:
            with self.subTest(operation=operation.label):
                case = operation.Case(path_parameters=_any_path(operation, valid=True))
                self.send(case, 400, token=self.token, data=b'{"case": ', headers={"Content-Type": "application/json"})


def _any_path(operation: Any, *, valid: bool = False) -> dict[str, str]:
    """Path parameters that fit the route; with `valid`, that fit their type too."""
    return {
        parameter.name: "x1" if not valid and _accepts(parameter.definition["schema"], "integer") else "1"
        for parameter in operation.path_parameters
    }


def _wrong_parameters(operation: Any) -> tuple[dict[str, str], dict[str, str]]:
    """Path and query parameters with text where the description asks for a number."""
    query = {p.name: "x1" for p in operation.query if _accepts(p.definition["schema"], "integer")}
    return _any_path(operation), query


def _accepts(schema: dict[str, Any], kind: str) -> bool:
    return schema.get("type") == kind or any(_accepts(option, kind) for option in schema.get("anyOf", []))
