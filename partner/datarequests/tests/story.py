"""The registry the data request tests start from: validated, draft, locked and withdrawn cases in three centres."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from typing import Any

from partner.accounts.models import Role
from partner.cases.consent import withdraw_consent
from partner.cases.models import Status, TumourCase
from partner.datarequests import services
from partner.datarequests.models import DataRequest, RequestStatus
from partner.testing import RegistryTestCase

FORMULA = '=HYPERLINK("http://example.org","x")'

#: The request of most tests: four variables of three forms, for every adrenocortical carcinoma.
VARIABLES = ["diagnosis.diagnosis_date", "registration.sex", "treatment.line_type", "registration.trial_identifier"]


def unzip(content: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name).decode("utf-8") for name in archive.namelist()}


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def header(text: str) -> list[str]:
    return next(csv.reader(io.StringIO(text)))


class DataRequestTestCase(RegistryTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.other_researcher = cls._user("researcher.two", Role.RESEARCHER)
        # Girl, 11 at diagnosis in Padova, two treatment lines and a relapse.
        cls.acc_padova = cls.register(
            cls.padova,
            registration={
                "date_of_birth": "2012-05-04",
                "sex": "female",
                "in_clinical_trial": True,
                "trial_identifier": FORMULA,
            },
            diagnosis={
                "diagnosis_date": "2024-02-10",
                "morphology": "8370/3",
                "topography": "C74.0",
                "stage_system": "TNM8",
                "stage_group": "II",
            },
            treatment=[
                {"line_type": "surgery", "treatment_start_date": "2024-02-20"},
                {"line_type": "chemotherapy", "treatment_start_date": "2024-03-15", "chemo_agents": ["cisplatin"]},
            ],
            follow_up=[{"event_type": "relapse", "event_date": "2025-01-10", "relapse_type": "metastatic"}],
        )
        # Boy, 13 at diagnosis in Paris, one treatment line.
        cls.acc_paris = cls.register(
            cls.paris,
            given="Léa",
            family="Martin",
            born="2008-03-01",
            sex="male",
            diagnosed="2021-06-15",
            treatment=[{"line_type": "surgery", "treatment_start_date": "2021-07-01"}],
        )
        # Locked (validated and frozen) in Milano, with an identifier at the source.
        cls.acc_locked = cls.register(
            cls.milano, given="Marco", family="Bianchi", born="2010-01-01", diagnosed="2019-09-09"
        )
        TumourCase.objects.filter(pk=cls.acc_locked.pk).update(external_id="TREP-2019-0042")
        cls.acc_locked.refresh_from_db()
        cls.melanoma = cls.register(cls.milano, given="Luca", morphology="8720/3", topography="C44.5", sex="male")
        cls.acc_draft = cls.register(cls.padova, given="Anna", family="Verdi")
        cls.acc_submitted = cls.register(cls.padova, given="Elena", family="Neri")
        cls.acc_withdrawn = cls.register(cls.padova, given="Sara", family="Bianchi")
        for case in (cls.acc_padova, cls.acc_paris, cls.melanoma, cls.acc_withdrawn):
            TumourCase.objects.filter(pk=case.pk).update(status=Status.VALIDATED)
        TumourCase.objects.filter(pk=cls.acc_locked.pk).update(status=Status.LOCKED)
        TumourCase.objects.filter(pk=cls.acc_submitted.pk).update(status=Status.SUBMITTED)
        withdraw_consent(case=cls.acc_withdrawn, withdrawn_on=dt.date(2025, 3, 1), erase=False, user=cls.european)
        #: What an ACC cohort extracts: validated or locked, consent standing.
        cls.acc_extracted = {cls.acc_padova.pk, cls.acc_paris.pk, cls.acc_locked.pk}

    def submit(self, user: Any = None, variables: Any = None, **cohort: Any) -> DataRequest:
        return services.submit(
            user=user or self.researcher,
            title="Adjuvant mitotane and relapse",
            purpose="Does adjuvant treatment change relapse-free survival in paediatric ACC?",
            variables=VARIABLES if variables is None else variables,
            cohort=cohort or {"entities": ["ACC"]},
        )

    def approved(self, user: Any = None, variables: Any = None, **cohort: Any) -> DataRequest:
        item = self.submit(user, variables, **cohort)
        return services.decide(item, user=self.european, decision=RequestStatus.APPROVED, note="Fine.")

    def extract(self, item: DataRequest, user: Any = None) -> dict[str, str]:
        return unzip(services.download(item, user=user or self.researcher).content)
