"""A registry with something waiting for every role: drafts, errors, queries, consultations, pairs, requests.

Padova holds the consultation story's case (a draft diagnosed in February 2024, never followed up),
a recent draft, a submitted case of a patient born in 2005 (re-consent due, one open error, seen two
months ago) and a submitted case of a child who died; Milano a submitted case; Paris a draft diagnosed
in 2020 and a submitted case of a patient born in 2000. Recent dates are counted back from today.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from partner.cases.models import Patient
from partner.consult import services as consultations
from partner.consult.models import Consultation
from partner.consult.tests.story import QUESTION, ConsultStory
from partner.datarequests import services as datarequests
from partner.linkage.models import CandidatePair, Decision
from partner.quality import queries
from partner.quality.models import Finding, Query


def days_ago(days: int) -> str:
    return (timezone.localdate() - dt.timedelta(days=days)).isoformat()


class WorkStory(ConsultStory):
    waiting_query: Query
    late_query: Query
    paris_query: Query
    unassigned: Consultation
    with_panel: Consultation

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.recent = cls.register(cls.padova, given="Anna", born="2011-06-01", diagnosed=days_ago(60))
        cls.adult = cls.register(
            cls.padova,
            given="Marco",
            born="2005-01-01",
            diagnosed="2023-01-01",
            case_status="submitted",
            status={"patient_status": "alive", "last_contact_date": days_ago(60)},
        )
        cls.died = cls.register(
            cls.padova,
            given="Sara",
            born="2010-01-01",
            diagnosed="2022-01-01",
            case_status="submitted",
            status={"patient_status": "dead", "date_of_death": "2023-01-01"},
        )
        cls.milano_case = cls.register(cls.milano, given="Luca", case_status="submitted")
        cls.paris_draft = cls.register(cls.paris, given="Léa", family="Martin", diagnosed="2020-05-05")
        cls.paris_adult = cls.register(
            cls.paris, given="Paul", family="Durand", born="2000-02-02", diagnosed="2016-01-01", case_status="submitted"
        )
        Finding.objects.create(
            case=cls.adult, rule="weiss_range", severity="error", field="diagnosis.morphology", values="x"
        )
        Finding.objects.create(
            case=cls.adult, rule="unusual_site", severity="warning", field="diagnosis.topography", values="y"
        )
        cls.waiting_query = queries.raise_query(cls.recent, "diagnosis.morphology", "Is it 8370/3?", None, cls.nc_italy)
        cls.late_query = queries.raise_query(cls.adult, "registration.sex", "Please check.", None, cls.nc_italy)
        Query.objects.filter(pk=cls.late_query.pk).update(due=timezone.localdate() - dt.timedelta(days=3))
        cls.paris_query = queries.raise_query(cls.paris_adult, "registration.sex", "Sure?", None, cls.european)
        cls.unassigned = consultations.submit(cls.case, cls.clinician, question=QUESTION)
        cls.with_panel = consultations.submit(cls.case, cls.clinician, question=QUESTION)
        consultations.assign(cls.with_panel, cls.european, [cls.expert, cls.expert_fr, cls.expert_de])
        patients = list(Patient.objects.order_by("pk")[:3])
        CandidatePair.objects.create(left=patients[0], right=patients[1], similarity=0.93, schema_version="1")
        CandidatePair.objects.create(
            left=patients[0], right=patients[2], similarity=0.91, schema_version="1", decision=Decision.DIFFERENT
        )
        cls.data_request = datarequests.submit(
            user=cls.researcher,
            title="Relapse after surgery",
            purpose="Relapse-free survival after complete resection.",
            variables=["diagnosis.diagnosis_date", "registration.sex"],
            cohort={"entities": ["ACC"]},
        )

    @staticmethod
    def counts(items: Any) -> dict[str, int]:
        return {item.key: item.count for item in items}
