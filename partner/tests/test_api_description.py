"""The OpenAPI description tells what every operation may answer before its own code runs, in one shape each."""

from __future__ import annotations

from typing import Any

from django.test import SimpleTestCase
from ninja import Router, Schema
from pydantic import create_model

from partner.accounts.models import ApiToken
from partner.api import NO_NUL, PartnerApi, api
from partner.testing import RegistryTestCase

REQUEST_INVALID = {"$ref": "#/components/schemas/RequestInvalid"}
REFUSAL = {"$ref": "#/components/schemas/Refusal"}


def _invalid(**fields: Any) -> type[Schema]:
    problem = create_model("Problem", __base__=Schema, **{name: (kind, ...) for name, kind in fields.items()})
    return create_model("Invalid", __base__=Schema, errors=(list[problem], ...))  # type: ignore[valid-type]


def _json_schema(answer: dict[str, Any]) -> dict[str, Any]:
    return answer["content"]["application/json"]["schema"]


class DescriptionTests(SimpleTestCase):
    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.schema = api.get_openapi_schema(path_prefix="/api/")
        cls.operations = {
            f"{method.upper()} {path}": operation
            for path, operations in cls.schema["paths"].items()
            for method, operation in operations.items()
        }

    def test_every_operation_documents_request_validation_errors_in_one_shape(self) -> None:
        self.assertGreater(len(self.operations), 40)
        for label, operation in self.operations.items():
            with self.subTest(operation=label):
                schema = _json_schema(operation["responses"][422])
                self.assertTrue(schema == REQUEST_INVALID or REQUEST_INVALID in schema["anyOf"], schema)
        # an operation's own 422 (the dictionary's validation of a record) is kept beside it
        own = _json_schema(self.operations["PATCH /api/cases/{case_id}/records/{form}/{number}"]["responses"][422])
        self.assertEqual(own, {"anyOf": [{"$ref": "#/components/schemas/Invalid"}, REQUEST_INVALID]})
        invalid = self.schema["components"]["schemas"]["RequestInvalid"]
        self.assertEqual(invalid["required"], ["detail", "errors"])
        problem = self.schema["components"]["schemas"]["RequestProblem"]
        self.assertEqual(problem["required"], ["location", "field", "message"])

    def test_every_operation_that_needs_a_token_documents_401_and_429_and_every_write_403(self) -> None:
        guarded = {label: operation for label, operation in self.operations.items() if "security" in operation}
        self.assertGreater(len(guarded), 35)
        for label, operation in guarded.items():
            with self.subTest(operation=label):
                self.assertEqual(_json_schema(operation["responses"][401]), REFUSAL)
                self.assertEqual(_json_schema(operation["responses"][429]), REFUSAL)
                if not label.startswith("GET "):
                    self.assertIn(
                        _json_schema(operation["responses"][403])["$ref"],
                        (REFUSAL["$ref"], "#/components/schemas/Error"),
                    )
        public = self.operations["GET /api/dictionary/entities"]["responses"]
        self.assertNotIn(401, public)
        self.assertNotIn(429, public)

    def test_every_operation_with_a_body_documents_413(self) -> None:
        for label, operation in self.operations.items():
            with self.subTest(operation=label):
                self.assertEqual(413 in operation["responses"], "requestBody" in operation)

    def test_text_is_described_without_the_nul_character(self) -> None:
        parameters = {p["name"]: p["schema"] for p in self.operations["GET /api/cases"]["parameters"]}
        self.assertEqual(parameters["status"]["anyOf"][0], {"type": "string", "pattern": NO_NUL})
        patch = self.schema["components"]["schemas"]["RecordPatch"]
        self.assertEqual(patch["properties"]["values"]["propertyNames"], {"pattern": NO_NUL})
        self.assertNotIn("pattern", parameters["limit"])  # a number

    def test_two_components_of_the_same_name_are_described_apart(self) -> None:
        first, second = _invalid(field=str), _invalid(form=str, field=str)  # two routers' `Invalid`
        one, other = Router(), Router()
        one.post("/a", response={422: first})(lambda request: None)
        other.post("/b", response={422: second})(lambda request: None)
        other.post("/c", response={422: second})(lambda request: None)
        described = PartnerApi(urls_namespace="two-routers")
        described.add_router("/one", one)
        described.add_router("/other", other)
        schema = described.get_openapi_schema(path_prefix="/")
        components = schema["components"]["schemas"]

        def fields(path: str) -> list[str]:
            own = _json_schema(schema["paths"][path]["post"]["responses"][422])["anyOf"][0]["$ref"].rsplit("/", 1)[-1]
            problem = components[own]["properties"]["errors"]["items"]["$ref"].rsplit("/", 1)[-1]
            return sorted(components[problem]["properties"])

        self.assertEqual(fields("/one/a"), ["field"])
        self.assertEqual(fields("/other/b"), ["field", "form"])
        self.assertEqual(fields("/other/c"), ["field", "form"])
        self.assertLessEqual({"Invalid", "Invalid2", "Problem", "Problem2"}, set(components))
        self.assertNotIn("Invalid3", components)  # the same class twice is one component


class RequestValidationErrorTests(RegistryTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.headers = {"authorization": f"Bearer {ApiToken.issue(cls.nc_italy, 'test')[1]}"}

    def test_a_body_of_the_wrong_types_is_answered_with_each_field_and_why_never_its_value(self) -> None:
        body = {"case": "Giulia Rossi", "field": ["diagnosis"]}
        response = self.client.post("/api/quality/queries", body, content_type="application/json", headers=self.headers)
        self.assertEqual(response.status_code, 422)
        answer = response.json()
        self.assertEqual(answer["detail"], "the request does not match the API's description: nothing was done")
        self.assertEqual(
            [(e["location"], e["field"]) for e in answer["errors"]],
            [("body", "case"), ("body", "field"), ("body", "question")],
        )
        self.assertEqual(answer["errors"][2]["message"], "Field required")
        self.assertNotIn("Giulia", response.content.decode())

    def test_parameters_of_the_wrong_type_are_named_by_where_they_are(self) -> None:
        query = self.client.get("/api/cases?offset=first", headers=self.headers)
        path = self.client.get("/api/requests/first", headers=self.headers)
        self.assertEqual((query.status_code, path.status_code), (422, 422))
        self.assertEqual([(e["location"], e["field"]) for e in query.json()["errors"]], [("query", "offset")])
        self.assertEqual([(e["location"], e["field"]) for e in path.json()["errors"]], [("path", "request_id")])

    def test_a_body_that_is_no_object_is_one_problem_with_the_whole_body(self) -> None:
        response = self.client.post("/api/quality/queries", "[]", content_type="application/json", headers=self.headers)
        self.assertEqual(response.status_code, 422)
        self.assertEqual({e["location"] for e in response.json()["errors"]}, {"body"})
        missing = self.client.post("/api/quality/queries", "", content_type="application/json", headers=self.headers)
        self.assertEqual(missing.json()["errors"], [{"location": "body", "field": "", "message": "Field required"}])
