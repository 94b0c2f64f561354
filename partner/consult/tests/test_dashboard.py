"""The consultation dashboard: turnaround and adherence for a known set of requests, for coordinators only."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.utils import timezone

from partner.consult import dashboard, services
from partner.consult.models import Consultation, ConsultationStatus

from .story import QUESTION, ConsultStory

START = timezone.make_aware(dt.datetime(2026, 1, 5, 9, 0), dt.UTC)


def days(n: float) -> dt.datetime:
    return START + dt.timedelta(days=n)


class DashboardStory(ConsultStory):
    """Five requests on adrenocortical carcinoma: three from Padova, two from Paris.

    | request | centre | urgency | first response | sent   | due    | follow-up |
    | A       | Padova | routine | day 1          | day 4  | day 10 | followed  |
    | B       | Padova | urgent  | day 2          | day 5  | day 3  | partly    |
    | C       | Paris  | routine | day 3          | day 12 | day 10 | —         |
    | D       | Paris  | routine | day 0.5        | —      | day 10 | (open)    |
    | E       | Padova | routine | —              | —      | day 10 | withdrawn |
    """

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.paris_case = cls.register(cls.paris, given="Camille", family="Martin", born="2010-06-01")
        cls.a = cls.made(cls.case, ConsultationStatus.SENT, first=1, sent=4)
        cls.b = cls.made(cls.case, ConsultationStatus.SENT, first=2, sent=5, urgency="urgent")
        cls.c = cls.made(cls.paris_case, ConsultationStatus.SENT, first=3, sent=12)
        cls.d = cls.made(cls.paris_case, ConsultationStatus.ASSIGNED, first=0.5)
        cls.e = cls.made(cls.case, ConsultationStatus.WITHDRAWN)
        services.record_adherence(cls.a, cls.dm_padova, followed="yes", outcome="ned")
        services.record_adherence(cls.b, cls.clinician, followed="partly", outcome="awd", reason="Six months only.")

    @classmethod
    def made(
        cls, case: Any, status: str, first: float | None = None, sent: float | None = None, urgency: str = "routine"
    ) -> Consultation:
        requester = cls.clinician if case == cls.case else cls.dm_paris
        consultation = services.submit(case, requester, question=QUESTION, urgency=urgency)
        Consultation.objects.filter(pk=consultation.pk).update(
            status=status,
            submitted_at=START,
            due=START + (consultation.due - consultation.submitted_at),
            first_response_at=days(first) if first is not None else None,
            sent_at=days(sent) if sent is not None else None,
        )
        consultation.refresh_from_db()
        return consultation


class TheNumbers(DashboardStory):
    def test_by_tumour_requests_open_sent_median_days_and_share_on_time(self) -> None:
        data = dashboard.frame(services.visible(self.european))
        rows = dashboard.turnaround(data, "entity").to_dict("records")
        self.assertEqual(len(rows), 1)
        row = rows[0]
        self.assertEqual(row["group"], "Adrenocortical carcinoma")
        self.assertEqual((row["requests"], row["open"], row["sent"]), (5, 1, 3))
        self.assertAlmostEqual(row["first_response_days"], 1.5)  # median of 1, 2, 3 and 0.5
        self.assertAlmostEqual(row["recommendation_days"], 5.0)  # median of 4, 5 and 12
        self.assertAlmostEqual(row["on_time"], 1 / 3)  # only A: B was due on day 3, C on day 10

    def test_by_country(self) -> None:
        data = dashboard.frame(services.visible(self.european))
        rows = {r["group"]: r for r in dashboard.turnaround(data, "country").to_dict("records")}
        self.assertEqual(set(rows), {"IT", "FR"})
        italy, france = rows["IT"], rows["FR"]
        self.assertEqual((italy["requests"], italy["open"], italy["sent"]), (3, 0, 2))
        self.assertAlmostEqual(italy["first_response_days"], 1.5)
        self.assertAlmostEqual(italy["recommendation_days"], 4.5)
        self.assertAlmostEqual(italy["on_time"], 0.5)
        self.assertEqual((france["requests"], france["open"], france["sent"]), (2, 1, 1))
        self.assertAlmostEqual(france["first_response_days"], 1.75)
        self.assertAlmostEqual(france["recommendation_days"], 12.0)
        self.assertAlmostEqual(france["on_time"], 0.0)

    def test_adherence_counts_the_follow_ups_recorded_of_the_recommendations_sent(self) -> None:
        data = dashboard.frame(services.visible(self.european))
        rows = dashboard.adherence(data).to_dict("records")
        self.assertEqual(
            rows, [{"group": "Adrenocortical carcinoma", "sent": 3, "recorded": 2, "yes": 1, "partly": 1, "no": 0}]
        )

    def test_a_national_coordinator_counts_only_the_requests_of_the_country(self) -> None:
        data = dashboard.frame(services.visible(self.nc_italy))
        self.assertEqual(sorted(data["pk"]), sorted([self.a.pk, self.b.pk, self.e.pk]))
        row = dashboard.turnaround(data, "entity").to_dict("records")[0]
        self.assertEqual((row["requests"], row["sent"]), (3, 2))

    def test_nothing_to_count_gives_empty_tables(self) -> None:
        data = dashboard.frame(services.visible(self.researcher))
        self.assertTrue(data.empty)
        self.assertEqual(len(dashboard.turnaround(data, "entity")), 0)
        self.assertEqual(len(dashboard.adherence(data)), 0)

    def test_the_names_are_in_the_language_asked_for(self) -> None:
        data = dashboard.frame(services.visible(self.european), "fr")
        self.assertNotEqual(data["entity_name"].iloc[0], "Adrenocortical carcinoma")
        self.assertFalse(math.isnan(data["days_to_recommendation"].max()))


class ThePage(DashboardStory):
    def test_a_coordinator_sees_the_numbers_of_their_scope(self) -> None:
        self.sign_in(self.client, self.european)
        response = self.client.get("/consult/dashboard/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.context["requests"], 5)
        self.assertContains(response, "Adrenocortical carcinoma")
        self.sign_in(self.client, self.nc_italy)
        response = self.client.get("/consult/dashboard/?by=country")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.context["requests"], 3)
        self.assertEqual([r["group"] for r in response.context["turnaround"]], ["IT"])

    def test_anyone_else_is_refused(self) -> None:
        for user in (self.clinician, self.dm_padova, self.expert, self.researcher):
            with self.subTest(user.username):
                self.sign_in(self.client, user)
                self.assertEqual(self.client.get("/consult/dashboard/").status_code, 403)
        self.client.logout()
        response = self.client.get("/consult/dashboard/")
        self.assertEqual(response.status_code, 302)
