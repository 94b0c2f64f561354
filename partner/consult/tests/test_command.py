"""partner consult list | remind: the same services as the pages and the API."""

from __future__ import annotations

import datetime as dt
import io

from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone

from partner.consult import services
from partner.consult.models import Consultation

from .story import QUESTION, ConsultStory


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("consult", *args, stdout=out)
    return out.getvalue()


class ListTests(ConsultStory):
    def test_it_lists_every_request_newest_first_and_filters_by_status(self) -> None:
        waiting = self.request()
        assigned = self.panel(self.request(urgency="urgent"))
        Consultation.objects.filter(pk=waiting.pk).update(submitted_at=timezone.now() - dt.timedelta(days=1))
        lines = run("list").splitlines()
        self.assertEqual(len(lines), 2)
        self.assertTrue(lines[0].startswith(f"#{assigned.pk} "), lines)
        self.assertIn("assigned", lines[0])
        self.assertIn("urgent", lines[0])
        self.assertIn("ACC", lines[0])
        self.assertIn("votes 0/3", lines[0])
        self.assertTrue(lines[1].startswith(f"#{waiting.pk} "), lines)
        self.assertEqual(run("list", "--status", "submitted").splitlines(), [lines[1]])
        self.assertEqual(run("list", "--status", "sent").strip(), "No consultation.")

    def test_it_never_prints_the_question(self) -> None:
        self.request()
        self.assertNotIn("mitotane", run("list").lower())
        self.assertIn("mitotane", QUESTION.lower())

    def test_an_overdue_request_is_marked(self) -> None:
        late = self.request(urgency="urgent")
        Consultation.objects.filter(pk=late.pk).update(due=timezone.now() - dt.timedelta(hours=1))
        self.assertTrue(run("list").rstrip().endswith("overdue"))

    def test_an_unknown_status_is_refused(self) -> None:
        with self.assertRaises(CommandError):
            run("list", "--status", "lost")


class RemindTests(ConsultStory):
    def test_it_reminds_the_overdue_requests_once_a_day_and_says_how_many(self) -> None:
        late = self.panel(self.request(urgency="urgent"))
        on_time = self.request()
        Consultation.objects.filter(pk=late.pk).update(due=timezone.now() - dt.timedelta(hours=1))
        mail.outbox.clear()
        self.assertEqual(run("remind").strip(), "1 overdue consultation reminded.")
        self.assertEqual(
            sorted(m.to[0] for m in mail.outbox),
            ["expert.de@example.org", "expert.fr@example.org", "expert@example.org"],
        )
        self.assertEqual(run("remind").strip(), "0 overdue consultations reminded.")
        on_time.refresh_from_db()
        self.assertIsNone(on_time.reminded_at)
        self.assertEqual(services.remind(timezone.now() + dt.timedelta(days=30)), 2)
