"""Patients over the API: only those with a case in the caller's scope, found by pseudonym, never by name."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from partner.accounts.auth import API_AUTH
from partner.api_inputs import Pagination

from .api import Error, IdentityIn, Invalid, identity_problems, pseudonym_of
from .models import AccessLog, Patient, TumourCase
from .scoping import registration_centres

router = Router(tags=["patients"], auth=API_AUTH)


class PatientOut(Schema):
    pseudonym: str
    sex: str
    date_of_birth: dt.date
    country: str = Field(description="the country of the centre that first registered the child")
    cases: list[int] = Field(description="the ids of the patient's cases in your scope")

    @staticmethod
    def resolve_country(patient: Patient) -> str:
        return patient.country.code

    @staticmethod
    def resolve_cases(patient: Patient) -> list[int]:
        return [case.pk for case in patient.visible_cases]  # type: ignore[attr-defined]


class LookupOut(Schema):
    pseudonym: str
    known: bool = Field(description="whether the patient has a case in your scope")


def _patients(user: Any) -> QuerySet[Patient]:
    in_scope = TumourCase.objects.restrict(user).only("id", "patient_id").order_by("id")
    return (
        Patient.objects.restrict(user)
        .select_related("country")
        .prefetch_related(Prefetch("cases", queryset=in_scope, to_attr="visible_cases"))
    )


@router.get("", response=list[PatientOut], summary="Patients with a case in your scope")
@paginate(Pagination)
def list_patients(request: HttpRequest) -> QuerySet[Patient]:
    return _patients(request.user).order_by("id")


# Declared before /{pseudonym}, whose pattern would otherwise take /lookup.
@router.post(
    "/lookup",
    response={200: LookupOut, 403: Error, 422: Invalid},
    summary="The pseudonym of a child's identifying data, and whether you know the child already",
)
def lookup(request: HttpRequest, identity: IdentityIn) -> Any:
    if not registration_centres(request.user).exists():
        return Status(403, {"detail": "only a centre's data managers and clinicians look up identifying data"})
    if problems := identity_problems(identity):
        return Status(422, {"detail": "the names need letters", "errors": problems})
    key = pseudonym_of(identity)
    return {"pseudonym": key, "known": Patient.objects.restrict(request.user).filter(pseudonym=key).exists()}


@router.get(
    "/{pseudonym}", response={200: PatientOut, 404: Error}, summary="One patient with their cases in your scope"
)
def get_patient(request: HttpRequest, pseudonym: str) -> Patient:
    patient = get_object_or_404(_patients(request.user), pseudonym=pseudonym)
    AccessLog.objects.bulk_create(
        AccessLog(user_id=cast(int, request.user.pk), case=case, channel=AccessLog.Channel.API, what="api patient")
        for case in patient.visible_cases  # type: ignore[attr-defined]
    )
    return patient
