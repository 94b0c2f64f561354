"""The REST API: one NinjaAPI, each app adding its router (OpenAPI at /api/docs)."""

from __future__ import annotations

from functools import partial
from http.client import responses as reasons
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import ValidationError, ValidationErrorContext
from ninja.openapi.schema import REF_TEMPLATE, OpenAPISchema
from ninja.operation import Operation

from partner.accounts.auth import TokenAuth
from partner.api_inputs import (
    REQUEST_INVALID,
    TOO_LARGE,
    Refusal,
    RequestInvalid,
    refuse_nul,
    request_problems,
)
from partner.cases.api import router as cases_router
from partner.cases.api_patients import router as patients_router
from partner.consult.api import router as consult_router
from partner.datarequests.api import router as datarequests_router
from partner.dictionary.api import router as dictionary_router
from partner.interop.api_hub import router as hub_router
from partner.quality.api import router as quality_router
from partner.quality.api_queries import router as queries_router
from partner.statistics.api import router as statistics_router
from partner.work.api import router as work_router

#: A string without the NUL character, as JSON Schema (ECMA-262) and Python read it.
NO_NUL = r"^[^\u0000]*$"

#: Methods for which a web session must send its CSRF token.
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def shared_answers(operation: Operation) -> dict[int, tuple[type[Schema], str]]:
    """What any operation may answer before its own code runs, whatever its router documents."""
    answers: dict[int, tuple[type[Schema], str]] = {
        400: (Refusal, "a body that is not JSON, or text with the NUL character (U+0000), which is not stored"),
        422: (RequestInvalid, "the parameters or the body do not match this description (RequestInvalid)"),
    }
    if any(model.__ninja_param_source__ == "body" for model in operation.models):
        answers[413] = (Refusal, TOO_LARGE)
    if operation.auth_callbacks:
        answers[401] = (Refusal, "no valid token (Authorization: Bearer prt_...) and no signed-in web session")
        if set(operation.methods) & UNSAFE:
            answers[403] = (Refusal, "a web session's request without its CSRF token (a token needs none)")
    if any(isinstance(auth, TokenAuth) for auth in operation.auth_callbacks):
        answers[429] = (Refusal, "too many unknown tokens from this address in the last minute: wait a minute")
    return answers


class PartnerSchema(OpenAPISchema):
    """The OpenAPI description: each operation's own responses and the shared ones, with one name per component.

    ninja names a component after its class; two routers' classes of the same name (an `Invalid` with
    other fields) would share one component and one of them would be described wrongly: the later one
    is given a name of its own (`Invalid2`).
    """

    def __init__(self, api: NinjaAPI, path_prefix: str) -> None:
        self._renamed: dict[str, str] = {}
        self._refs: dict[type[Schema], dict[str, str]] = {}
        super().__init__(api, path_prefix)

    def responses(self, operation: Operation) -> dict[int, Any]:
        answers = super().responses(operation)
        for status, (model, why) in shared_answers(operation).items():
            ref = self._ref(model)
            description = f"{reasons[status]}: {why}"
            given = answers.get(status)
            if given is None:
                answers[status] = {"description": description, "content": {"application/json": {"schema": ref}}}
                continue
            schema = given.get("content", {}).get("application/json", {}).get("schema")
            if schema is None or self._accepts(schema, model):
                continue
            given["content"]["application/json"]["schema"] = {"anyOf": [schema, ref]}
            given["description"] = f"{given['description']}; or {why}"
        return answers

    def _ref(self, model: type[Schema]) -> dict[str, str]:
        """A reference to `model`'s component, added on first use."""
        if model not in self._refs:
            schema, _required = self._create_schema_from_model(model, remove_level=False, mode="serialization")
            self.add_schema_definitions({model.__name__: schema})
            self._refs[model] = {"$ref": REF_TEMPLATE.format(model=self._renamed.get(model.__name__, model.__name__))}
        return self._refs[model]

    def _accepts(self, schema: dict[str, Any], model: type[Schema]) -> bool:
        """Whether a documented schema already describes `model`'s answers: the same component, or for a
        Refusal any object whose only required property is `detail`."""
        if schema == self._ref(model):
            return True
        if model is not Refusal or "$ref" not in schema:
            return False
        target = self.schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
        detail = target.get("properties", {}).get("detail", {})
        return set(target.get("required", [])) <= {"detail"} and detail.get("type") == "string"

    def _create_schema_from_model(self, *args: Any, **kwargs: Any) -> tuple[dict[str, Any], bool]:
        self._renamed = {}
        schema, required = super()._create_schema_from_model(*args, **kwargs)
        return _repointed(schema, self._renamed), required

    def _extract_parameters(self, model: Any) -> list[dict[str, Any]]:
        self._renamed = {}
        return _repointed(super()._extract_parameters(model), self._renamed)

    def add_schema_definitions(self, definitions: dict[str, Any]) -> None:
        # A definition may differ from the one kept under its name only through a nested one that is renamed.
        renamed: dict[str, str] = {}
        while True:
            found = {
                name: self._name_for(name, _repointed(definition, renamed))
                for name, definition in definitions.items()
                if name not in renamed and self.schemas.get(name, definition) != _repointed(definition, renamed)
            }
            if not found:
                break
            renamed.update(found)
        self._renamed.update(renamed)
        super().add_schema_definitions(
            {renamed.get(name, name): _repointed(definition, renamed) for name, definition in definitions.items()}
        )

    def _name_for(self, name: str, definition: dict[str, Any]) -> str:
        """The name already given to this definition (`Invalid2`), or the next one free."""
        number = 2
        while self.schemas.get(f"{name}{number}", definition) != definition:
            number += 1
        return f"{name}{number}"


def _repointed(value: Any, renamed: dict[str, str]) -> Any:
    """`value` with its references to renamed components pointing to their new names."""
    if not renamed:
        return value
    if isinstance(value, list):
        return [_repointed(item, renamed) for item in value]
    if not isinstance(value, dict):
        return value
    result = {key: _repointed(item, renamed) for key, item in value.items()}
    ref = value.get("$ref")
    if isinstance(ref, str) and ref.startswith(REF_TEMPLATE.format(model="")):
        name = ref.rsplit("/", 1)[-1]
        result["$ref"] = REF_TEMPLATE.format(model=renamed.get(name, name))
    return result


def _without_nul(value: Any) -> None:
    """Say of every plain string, and of every key of a mapping, that it holds no NUL character: `refuse_nul`
    answers 400 to one (the values of a mapping of any values are left unsaid)."""
    if isinstance(value, list):
        for item in value:
            _without_nul(item)
    elif isinstance(value, dict):
        if value.get("type") == "string" and not value.keys() & {"pattern", "format", "enum", "const"}:
            value["pattern"] = NO_NUL
        if value.get("type") == "object" and value.get("additionalProperties", True) is not False:
            value.setdefault("propertyNames", {"pattern": NO_NUL})
        for item in value.values():
            _without_nul(item)


class PartnerApi(NinjaAPI):
    """The API, whose description adds to every operation what it may answer before its own code runs:
    400 (`refuse_nul`, a body that is not JSON), 413, 422 (request validation, one shape), 401, 403, 429."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        schema = PartnerSchema(self, path_prefix)
        _without_nul(schema["paths"])
        _without_nul(schema["components"])
        return schema

    def set_default_exception_handlers(self) -> None:
        super().set_default_exception_handlers()
        self.add_exception_handler(ValidationError, partial(_answer_invalid_request, api=self))

    def validation_error_from_error_contexts(self, error_contexts: list[ValidationErrorContext]) -> ValidationError:
        # A body read into one parameter (`payload: RecordIn`) is located by that parameter's name: a
        # client knows only the body's own fields.
        errors = super().validation_error_from_error_contexts(error_contexts).errors
        parameters = {
            getattr(context.model, "__read_from_single_attr__", None)
            for context in error_contexts
            if context.model.__ninja_param_source__ == "body"
        }
        for error in errors:
            loc = tuple(error["loc"])
            if len(loc) > 1 and loc[0] == "body" and loc[1] in parameters - {None}:
                error["loc"] = (loc[0], *loc[2:])
        return ValidationError(errors)


def _answer_invalid_request(request: HttpRequest, exc: ValidationError, api: NinjaAPI) -> HttpResponse:
    return api.create_response(request, {"detail": REQUEST_INVALID, "errors": request_problems(exc)}, status=422)


api = PartnerApi(
    title="PARTNER registry API",
    version="1",
    description="Data dictionary, cases and registry services of the PARTNER registry of paediatric very rare tumours.",
    urls_namespace="api",
)
api.add_decorator(refuse_nul, mode="view")
api.add_router("/dictionary/", dictionary_router)
api.add_router("/cases", cases_router)
api.add_router("/patients", patients_router)
api.add_router("/quality/queries", queries_router)
api.add_router("/quality", quality_router)
api.add_router("/hub", hub_router)
api.add_router("/fhir", "partner.interop.api_fhir.router")
api.add_router("/statistics", statistics_router)
api.add_router("/requests", datarequests_router)
api.add_router("/consultations", consult_router)
api.add_router("/work", work_router)
