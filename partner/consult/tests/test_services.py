"""The consultation from request to letter and follow-up, through the services every channel uses."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from partner.cases.models import AccessLog
from partner.consult import services
from partner.consult.models import Adherence, Attachment, Consultation, ConsultationStatus

from .story import QUESTION, ConsultStory, pdf, png


class TheRequest(ConsultStory):
    def test_it_goes_to_the_entitys_panel_with_a_summary_that_names_nobody(self) -> None:
        consultation = self.request(urgency="urgent", attachments=[("pathology", "histology.pdf", pdf())])
        self.assertEqual(consultation.panel, "endocrine")
        self.assertEqual(consultation.due - consultation.submitted_at, dt.timedelta(days=3))
        summary = consultation.summary
        self.assertEqual(summary["entity"], "ACC")
        self.assertEqual(summary["age_at_diagnosis"], 11.9)
        text = json.dumps(summary)
        for secret in ("2012-03-04", "2024-02-01", str(self.case.patient), "Padova", "Rossi", "Giulia"):
            self.assertNotIn(secret, text)
        self.assertEqual(summary["forms"]["treatment"][0]["treatment_start_date"], {"days": 14})
        self.assertNotIn("consent", summary["forms"])
        stored = consultation.attachments.get()
        self.assertEqual(
            (stored.content_type, stored.extension, stored.name), ("application/pdf", "pdf", "histology.pdf")
        )
        self.assertEqual(Path(stored.file.path).read_bytes(), pdf())
        self.assertNotIn("histology", stored.file.name)  # stored under a name of the registry's own
        self.assertEqual(len(mail.outbox), 0)  # mails go after the commit; the test transaction never commits

    def test_a_file_is_taken_for_what_its_content_is(self) -> None:
        refusals = {
            "scan.pdf": (png(), "its content is PNG"),
            "report.pdf": (b"<html><script>alert(1)</script></html>", "not a PDF, PNG or JPEG"),
            "empty.png": (b"", "is empty"),
            "broken.png": (png()[:20], "not a readable image"),
            "cut.pdf": (pdf()[:-7], "not a complete PDF"),
            "../../etc/passwd.pdf": (b"\x7fELF\x02\x01\x01" + bytes(64), "not a PDF, PNG or JPEG"),
        }
        for name, (content, message) in refusals.items():
            with self.subTest(name), self.assertRaisesMessage(ValidationError, message):
                self.request(attachments=[("other", "fine.png", png()), ("other", name, content)])
        self.assertFalse(Consultation.objects.exists())
        self.assertFalse(Attachment.objects.exists())
        self.assertEqual(list(Path(settings.MEDIA_ROOT).rglob("*.*")), [])

    def test_a_file_too_large_is_refused(self) -> None:
        big = pdf()[:-6] + b" " * (20 * 1024 * 1024) + b"%%EOF\n"
        with self.assertRaisesMessage(ValidationError, "larger than 20 MB"):
            self.request(attachments=[("other", "big.pdf", big)])

    def test_only_the_cases_centre_asks_and_only_about_a_very_rare_tumour(self) -> None:
        with self.assertRaises(PermissionDenied):
            services.submit(self.case, self.dm_paris, question=QUESTION)
        with self.assertRaises(PermissionDenied):
            services.submit(self.case, self.expert, question=QUESTION)
        other = self.register(self.padova, given="Anna", morphology="8000/3", topography="C80.9")
        with self.assertRaisesMessage(ValidationError, "no expert panel"):
            services.submit(other, self.clinician, question=QUESTION)
        with self.assertRaisesMessage(ValidationError, "Write the clinical question"):
            services.submit(self.case, self.clinician, question="   ")


class ThePanel(ConsultStory):
    def test_three_experts_from_two_countries_of_the_panel_or_none(self) -> None:
        consultation = self.request()
        with self.assertRaisesMessage(ValidationError, "at least 3 experts from at least 2 countries"):
            services.assign(consultation, self.european, [self.expert, self.expert_fr])
        with self.assertRaisesMessage(ValidationError, "Not an active member of this panel"):
            services.assign(consultation, self.european, [self.expert, self.expert_fr, self.outsider])
        with self.assertRaises(PermissionDenied):
            services.assign(consultation, self.clinician, [self.expert, self.expert_fr, self.expert_de])
        with self.assertRaises(PermissionDenied):  # France's coordinator does not coordinate an Italian case
            nc_france = self._user("nc.france", "national_coordinator", country=self.france)
            services.assign(consultation, nc_france, [self.expert, self.expert_fr, self.expert_de])
        self.assertFalse(consultation.assignments.exists())
        with self.captureOnCommitCallbacks(execute=True):
            services.assign(consultation, self.nc_italy, [self.expert, self.expert_fr, self.expert_de])
        consultation.refresh_from_db()
        self.assertEqual(consultation.status, ConsultationStatus.ASSIGNED)
        self.assertEqual(
            sorted(m.to[0] for m in mail.outbox),
            ["expert.de@example.org", "expert.fr@example.org", "expert@example.org"],
        )
        for message in mail.outbox:
            self.assertNotIn("mitotane", message.body)
            self.assertIn(f"/consult/{consultation.pk}/", message.body)

    def test_an_expert_sees_only_the_requests_assigned_to_them(self) -> None:
        consultation = self.panel(self.request())
        self.assertEqual(services.get_visible(self.expert_fr, consultation.pk), consultation)
        with self.assertRaises(Http404):
            services.get_visible(self.outsider, consultation.pk)
        with self.assertRaises(Http404):
            services.get_visible(self.dm_paris, consultation.pk)
        self.assertEqual(list(services.visible(self.nc_italy)), [consultation])
        self.assertEqual(list(services.visible(self.researcher)), [])


class TheRecommendation(ConsultStory):
    def test_it_is_sent_as_a_letter_once_every_expert_has_voted_and_three_agree(self) -> None:
        consultation = self.panel(self.request())
        services.post_message(consultation, self.expert_fr, "Is the adrenal vein invaded?")
        consultation.refresh_from_db()
        self.assertIsNotNone(consultation.first_response_at)
        services.post_message(consultation, self.clinician, "No venous invasion on the pathology report.")
        draft = services.draft(consultation, self.expert, "Mitotane for two years, aiming at 14-20 mg/l.")
        self.assertFalse(services.vote(consultation, self.expert, "agree", version=1))
        with self.assertRaisesMessage(ValidationError, "Say why you dissent"):
            services.vote(consultation, self.expert_fr, "dissent")
        self.assertFalse(services.vote(consultation, self.expert_fr, "dissent", "Two years is long; one may do."))
        # A revision asks everyone to vote again.
        services.draft(consultation, self.expert_fr, "Mitotane for at least one year, aiming at 14-20 mg/l.")
        draft.refresh_from_db()
        self.assertEqual(draft.version, 2)
        self.assertEqual(set(consultation.assignments.values_list("vote", flat=True)), {""})
        with self.assertRaisesMessage(ValidationError, "revised since you read it"):
            services.vote(consultation, self.expert, "agree", version=1)
        self.assertFalse(services.vote(consultation, self.expert, "agree", version=2))
        self.assertFalse(services.vote(consultation, self.expert_fr, "agree", version=2))
        with self.captureOnCommitCallbacks(execute=True):
            self.assertTrue(services.vote(consultation, self.expert_de, "agree", version=2))
        consultation.refresh_from_db()
        self.assertEqual(consultation.status, ConsultationStatus.SENT)
        self.assertIsNotNone(consultation.sent_at)
        letter = Path(consultation.recommendation.letter.path).read_bytes()
        self.assertTrue(letter.startswith(b"%PDF"))
        self.assertEqual([m.to for m in mail.outbox], [["clinician.padova@example.org"]])
        self.assertNotIn("Mitotane", mail.outbox[0].body)
        with self.assertRaises(ValidationError):
            services.draft(consultation, self.expert, "too late")
        history = consultation.history.order_by("history_date")
        self.assertEqual([h.status for h in history][-1], ConsultationStatus.SENT)
        self.assertEqual(consultation.recommendation.history.count(), 3)  # drafted, revised, its letter stored

    def test_a_dissent_among_three_holds_the_letter_back(self) -> None:
        consultation = self.panel(self.request())
        services.draft(consultation, self.expert, "Observation only.")
        services.vote(consultation, self.expert, "agree")
        services.vote(consultation, self.expert_fr, "agree")
        self.assertFalse(services.vote(consultation, self.expert_de, "dissent", "Mitotane is indicated."))
        consultation.refresh_from_db()
        self.assertEqual(consultation.status, ConsultationStatus.ASSIGNED)
        self.assertFalse(consultation.recommendation.letter)

    def test_only_assigned_experts_draft_and_vote(self) -> None:
        consultation = self.panel(self.request())
        with self.assertRaises(PermissionDenied):
            services.draft(consultation, self.outsider, "x")
        services.draft(consultation, self.expert, "x")
        with self.assertRaises(PermissionDenied):
            services.vote(consultation, self.european, "agree")


class TheLoopBack(ConsultStory):
    def sent(self) -> Consultation:
        consultation = self.panel(self.request())
        services.draft(consultation, self.expert, "Mitotane for one year.")
        for expert in (self.expert, self.expert_fr, self.expert_de):
            services.vote(consultation, expert, "agree")
        consultation.refresh_from_db()
        return consultation

    def test_the_centre_records_whether_the_recommendation_was_followed(self) -> None:
        consultation = self.panel(self.request())
        with self.assertRaises(PermissionDenied):  # not sent yet
            services.record_adherence(consultation, self.dm_padova, followed="yes", outcome="ned")
        consultation = self.sent()
        with self.assertRaises(PermissionDenied):
            services.record_adherence(consultation, self.expert, followed="yes", outcome="ned")
        with self.assertRaisesMessage(ValidationError, "what was done instead"):
            services.record_adherence(consultation, self.dm_padova, followed="partly", outcome="ned")
        services.record_adherence(
            consultation, self.dm_padova, followed="partly", outcome="ned", reason="Six months only"
        )
        services.record_adherence(consultation, self.clinician, followed="yes", outcome="awd")
        adherence = Adherence.objects.get()
        self.assertEqual((adherence.followed, adherence.outcome, adherence.recorded_by), ("yes", "awd", self.clinician))
        self.assertEqual(adherence.history.count(), 2)

    def test_reminders_go_to_the_experts_who_have_not_voted_once_a_day(self) -> None:
        consultation = self.panel(self.request(urgency="urgent"))
        services.draft(consultation, self.expert, "Observation.")
        services.vote(consultation, self.expert, "agree")
        mail.outbox.clear()
        self.assertEqual(services.remind(timezone.now()), 0)
        later = consultation.due + dt.timedelta(hours=1)
        self.assertEqual(services.remind(later), 1)
        self.assertEqual(sorted(m.to[0] for m in mail.outbox), ["expert.de@example.org", "expert.fr@example.org"])
        self.assertEqual(services.remind(later + dt.timedelta(hours=2)), 0)
        self.assertEqual(services.remind(later + dt.timedelta(days=1, minutes=1)), 1)

    def test_reads_are_in_the_cases_access_log(self) -> None:
        consultation = self.panel(self.request())
        self.sign_in(self.client, self.expert_de)
        self.assertEqual(self.client.get(f"/consult/{consultation.pk}/").status_code, 200)
        read = AccessLog.objects.get(user=self.expert_de)
        self.assertEqual((read.case, read.what), (self.case, "consultation read"))
