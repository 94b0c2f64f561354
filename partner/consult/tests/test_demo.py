"""The demo registry's panels and consultations: every state, dated in the past, made by the services."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from django.core.management import call_command
from django.test import TestCase
from django.utils import timezone

from partner.accounts.models import Membership, Role
from partner.consult import dashboard, services
from partner.consult.demo import SEATS, demo_consultations
from partner.consult.models import (
    Adherence,
    Assignment,
    Attachment,
    Consultation,
    ConsultationStatus,
    Message,
    Panel,
    PanelMember,
)
from partner.dictionary.loader import load_bundled

from .story import TemporaryMedia


def signature() -> list[tuple[Any, ...]]:
    rows = []
    for c in Consultation.objects.order_by("pk").prefetch_related("assignments__expert"):
        rows.append(
            (
                c.case_id,
                c.status,
                c.urgency,
                c.question,
                [(a.expert.username, a.vote) for a in c.assignments.all()],
                getattr(getattr(c, "recommendation", None), "text", None),
            )
        )
    return rows


class DemoConsultationTests(TemporaryMedia, TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        load_bundled()
        cls.output = io.StringIO()
        call_command("demo", "--patients", "80", "--seed", "5", "--force", stdout=cls.output, stderr=io.StringIO())

    def test_every_panel_has_three_experts_from_two_countries(self) -> None:
        for panel in Panel.values:
            with self.subTest(panel):
                members = PanelMember.objects.filter(panel=panel, active=True)
                self.assertGreaterEqual(members.count(), services.MIN_EXPERTS)
                self.assertGreaterEqual(members.values("country").distinct().count(), services.MIN_COUNTRIES)
        experts = set(Membership.objects.filter(role=Role.EXPERT).values_list("user__username", flat=True))
        self.assertEqual(set(SEATS), experts)

    def test_there_are_consultations_in_every_state_one_overdue_and_one_followed_up(self) -> None:
        self.assertIn(f"{Consultation.objects.count()} expert consultations", self.output.getvalue())
        self.assertEqual(set(Consultation.objects.values_list("status", flat=True)), set(ConsultationStatus.values))
        now = timezone.now()
        is_open = [ConsultationStatus.SUBMITTED, ConsultationStatus.ASSIGNED]
        self.assertTrue(Consultation.objects.filter(status__in=is_open, due__lt=now).exists())
        self.assertTrue(Consultation.objects.filter(status__in=is_open, due__gt=now).exists())
        self.assertEqual(Adherence.objects.count(), 3)
        self.assertTrue(Attachment.objects.exists())
        for consultation in Consultation.objects.filter(status=ConsultationStatus.SENT):
            with consultation.recommendation.letter.open("rb") as letter:
                self.assertTrue(letter.read().startswith(b"%PDF"))
        drafted = Consultation.objects.filter(status=ConsultationStatus.ASSIGNED, recommendation__isnull=False).get()
        self.assertEqual(sorted(drafted.assignments.values_list("vote", flat=True)), ["", "", "agree"])

    def test_it_is_dated_in_the_past_in_the_order_things_happened(self) -> None:
        now = timezone.now()
        for c in Consultation.objects.all():
            with self.subTest(c.pk):
                self.assertLess(c.submitted_at, now - dt.timedelta(hours=1))
                moments = [c.submitted_at, c.first_response_at, c.sent_at]
                shown = [m for m in moments if m is not None]
                self.assertEqual(shown, sorted(shown))
                self.assertTrue(all(m < now for m in shown))
                for a in c.assignments.all():
                    self.assertGreater(a.assigned_at, c.submitted_at)
                    if a.voted_at:
                        self.assertLessEqual(a.voted_at, c.sent_at or now)
                history = list(c.history.order_by("history_id").values_list("history_date", flat=True))
                self.assertEqual(history[0], c.submitted_at)
                self.assertEqual(history, sorted(history))
        self.assertFalse(Message.objects.filter(written__gte=now - dt.timedelta(hours=1)).exists())
        self.assertFalse(Assignment.history.filter(history_date__gte=now - dt.timedelta(hours=1)).exists())

    def test_each_letter_bears_the_day_its_recommendation_was_sent(self) -> None:
        from django.utils import formats, translation

        from .test_letter_language import text_of

        sent = Consultation.objects.filter(status=ConsultationStatus.SENT).select_related("recommendation")
        self.assertTrue(sent.exists())
        for c in sent:
            with self.subTest(c.pk), translation.override(c.language):
                day = formats.date_format(timezone.localdate(c.sent_at), "DATE_FORMAT")
                self.assertLess(c.sent_at, timezone.now() - dt.timedelta(days=1))
                self.assertIn(day, text_of(c.recommendation.letter.read()))

    def test_the_dashboard_has_turnaround_and_adherence_to_show(self) -> None:
        european = Membership.objects.get(role=Role.EUROPEAN_COORDINATOR).user
        data = dashboard.frame(services.visible(european))
        by_country = dashboard.turnaround(data, "country")
        self.assertEqual(set(by_country["group"]), {"IT", "FR"})
        self.assertEqual(by_country["sent"].sum(), 6)
        sent = data[data["status"] == ConsultationStatus.SENT]
        self.assertTrue((sent["days_to_recommendation"] > 1).all())
        self.assertEqual(set(sent["on_time"]), {True, False})  # some late
        self.assertEqual(dashboard.adherence(data)["recorded"].sum(), 3)

    def test_the_same_seed_makes_the_same_consultations(self) -> None:
        first = signature()
        Attachment.objects.all().delete()
        Consultation.objects.all().delete()
        self.assertEqual(demo_consultations(5), len(first))
        self.assertEqual(signature(), first)
