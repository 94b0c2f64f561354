"""The REST API: one NinjaAPI, each app adding its router (OpenAPI at /api/docs)."""

from typing import Any

from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema

from partner.api_inputs import NUL_RESPONSE, refuse_nul
from partner.cases.api import router as cases_router
from partner.cases.api_patients import router as patients_router
from partner.consult.api import router as consult_router
from partner.datarequests.api import router as datarequests_router
from partner.dictionary.api import router as dictionary_router
from partner.interop.api_hub import router as hub_router
from partner.quality.api import router as quality_router
from partner.quality.api_queries import router as queries_router
from partner.statistics.api import router as statistics_router


class PartnerApi(NinjaAPI):
    """The API, whose description adds to every operation the 400 that `refuse_nul` answers."""

    def get_openapi_schema(self, **kwargs: Any) -> OpenAPISchema:
        schema = super().get_openapi_schema(**kwargs)
        for operations in schema["paths"].values():
            for operation in operations.values():
                operation["responses"].setdefault(400, NUL_RESPONSE)
        return schema


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
api.add_router("/statistics", statistics_router)
api.add_router("/requests", datarequests_router)
api.add_router("/consultations", consult_router)
