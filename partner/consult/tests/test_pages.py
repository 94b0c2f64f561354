"""Every role against every consultation page and form.

Out of scope is 404, never 403: a request is not told to exist to whom may not read it. The table is
the specification: what each role gets for an open request on a case of Padova (with a draft
recommendation, assigned to three experts) and for a sent one on the same case. A refused request
(4xx or the log-in page) changes nothing, not even the access log or the files on disk; a read
changes only the access log; a write that is let through changes the consultation.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import resolve

from partner.accounts.models import Role
from partner.cases.models import AccessLog
from partner.consult import services
from partner.consult import urls as consult_urls
from partner.consult.models import (
    Adherence,
    Assignment,
    Attachment,
    Consultation,
    Message,
    PanelMember,
    Recommendation,
)
from partner.testing import matrix, undone

from .story import QUESTION, ConsultStory, pdf, png

ROLES = (
    "dm_padova",
    "clinician",
    "nc_italy",
    "european",
    "expert",
    "dm_paris",
    "nc_france",
    "unassigned",
    "researcher",
    "anonymous",
)

#: The roles for whom the Padova requests are out of scope.
OUTSIDE = ("dm_paris", "nc_france", "unassigned", "researcher")

#: {open}: a request with the panel and a draft; {sent}: its recommendation sent; {file}: the open
#: request's PDF. A status code, or `login` for the redirect to the log-in page. An assigned expert who
#: voted gets the panel's copy of the letter, which names no centre; an expert not assigned gets nothing.
MATRIX = """
endpoint                              kind  dm_padova clinician nc_italy european expert dm_paris nc_france unassigned researcher anonymous
GET  /consult/                        read     200       200      200      200     200     200      200       200        200      login
GET  /consult/new/                    read     200       200      200      200     200     200      200       200        200      login
GET  /consult/new/?case={case}        read     200       200      403      403     404     404      404       404        404      login
POST /consult/new/                    write    302       302      403      403     404     404      404       404        404      login
GET  /consult/dashboard/              read     403       403      200      200     403     403      200       403        403      login
GET  /consult/{open}/                 read     200       200      200      200     200     404      404       404        404      login
POST /consult/{open}/                 read     405       405      405      405     405     405      405       405        405      login
POST /consult/{open}/assign/          write    403       403      302      302     403     404      404       404        404      login
POST /consult/{open}/message/         write    302       302      302      302     302     404      404       404        404      login
POST /consult/{open}/draft/           write    403       403      403      403     302     404      404       404        404      login
POST /consult/{open}/vote/            write    403       403      403      403     302     404      404       404        404      login
POST /consult/{open}/attach/          write    302       302      403      403     403     404      404       404        404      login
POST /consult/{open}/withdraw/        write    403       302      302      302     403     404      404       404        404      login
POST /consult/{sent}/follow-up/       write    302       302      403      403     403     404      404       404        404      login
GET  /consult/{open}/attachments/{file}/ read  200       200      200      200     200     404      404       404        404      login
GET  /consult/{sent}/letter.pdf       read     200       200      200      200     200     404      404       404        404      login
"""  # noqa: E501


class PageStory(ConsultStory):
    """An open request (assigned, with a draft) and a sent one on the Padova case, and one of Paris."""

    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.nc_france = cls._user("nc.france", Role.NATIONAL_COORDINATOR, country=cls.france)
        cls.unassigned = cls._user("expert.spare", Role.EXPERT)
        PanelMember.objects.create(user=cls.unassigned, panel="endocrine", country=cls.italy)
        cls.open = services.submit(
            cls.case, cls.clinician, question=QUESTION, attachments=[("pathology", "h.pdf", pdf())]
        )
        services.assign(cls.open, cls.european, [cls.expert, cls.expert_fr, cls.expert_de])
        services.draft(cls.open, cls.expert, "Mitotane for one year.")
        cls.file = cls.open.attachments.get()
        cls.sent = services.submit(cls.case, cls.dm_padova, question="Radiotherapy of the tumour bed?")
        services.assign(cls.sent, cls.nc_italy, [cls.expert, cls.expert_fr, cls.expert_de])
        services.draft(cls.sent, cls.expert_fr, "No radiotherapy.")
        for expert in (cls.expert, cls.expert_fr, cls.expert_de):
            services.vote(cls.sent, expert, "agree")
        paris_case = cls.register(cls.paris, given="Léa", family="Martin", morphology="8720/3", topography="C44.5")
        cls.paris_request = services.submit(paris_case, cls.dm_paris, question="Sentinel node biopsy?")

    def web(self, role: str) -> Client:
        client = Client()
        if role != "anonymous":
            self.sign_in(client, getattr(self, role))
        return client


class PageMatrixTests(PageStory):
    def snapshot(self) -> dict[str, Any]:
        """What a refused request must leave as it was: the consultations, the access log, the files."""
        return {
            "consultations": sorted(Consultation.objects.values_list("id", "status")),
            "assignments": sorted(Assignment.objects.values_list("consultation_id", "expert_id", "vote")),
            "messages": Message.objects.count(),
            "recommendations": sorted(Recommendation.objects.values_list("consultation_id", "version")),
            "adherence": sorted(Adherence.objects.values_list("consultation_id", "followed", "outcome")),
            "attachments": Attachment.objects.count(),
            "history": sum(
                model.history.count()  # type: ignore[attr-defined]
                for model in (Consultation, Assignment, Recommendation, Adherence, Attachment)
            ),
            "files": sorted(str(p) for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()),
            "reads": AccessLog.objects.count(),
        }

    def body(self, label: str) -> dict[str, Any]:
        return {
            "POST /consult/new/": {
                "case": self.case.pk,
                "question": QUESTION,
                "urgency": "urgent",
                "file-1": SimpleUploadedFile("scan.png", png(), "image/png"),
                "kind-1": "radiology",
            },
            "POST /consult/{open}/assign/": {"experts": [self.unassigned.pk]},
            "POST /consult/{open}/message/": {"text": "Was the adrenal vein invaded?"},
            "POST /consult/{open}/draft/": {"text": "Mitotane for two years.", "version": 1},
            "POST /consult/{open}/vote/": {"vote": "agree", "version": 1},
            "POST /consult/{open}/attach/": {"kind": "other", "file": SimpleUploadedFile("note.pdf", pdf())},
            "POST /consult/{sent}/follow-up/": {"followed": "yes", "outcome": "ned"},
        }.get(label, {})

    def request(self, role: str, label: str, *, missing: bool = False) -> Any:
        """Send the matrix's request as `role`: on the Padova requests, or on ones that do not exist."""
        method, path, *_ = label.split()
        gone = 999_999
        url = path.format(
            case=gone if missing else self.case.pk,
            open=gone if missing else self.open.pk,
            sent=gone if missing else self.sent.pk,
            file=gone if missing else self.file.pk,
        )
        body = self.body(label)
        if missing and "case" in body:
            body["case"] = gone
        client = self.web(role)
        return client.get(url) if method == "GET" else client.post(url, body)

    def assert_outcome(self, response: Any, expected: str) -> None:
        if expected == "login":
            self.assertEqual(response.status_code, 302)
            self.assertTrue(response["Location"].startswith("/accounts/login/?next="), response["Location"])
            return
        self.assertEqual(response.status_code, int(expected), response.content[:300])
        if response.status_code == 302:  # on to the request's page, not to a log-in or a second factor
            self.assertRegex(response["Location"], r"^/consult/\d+/$")

    def test_each_role_gets_what_the_matrix_says_and_a_refusal_changes_nothing(self) -> None:
        for label, row in matrix(MATRIX, len(ROLES) + 1).items():
            kind = row.pop("kind")
            if ("{open}" in label or "{sent}" in label) and row["european"] != "405":  # the table's own rule
                self.assertEqual({row[role] for role in OUTSIDE}, {"404"}, label)
            for role, expected in row.items():
                with self.subTest(endpoint=label, role=role), undone():
                    before = self.snapshot()
                    response = self.request(role, label)
                    after = self.snapshot()
                    self.assert_outcome(response, expected)
                    if expected == "login" or int(expected) >= 400:
                        self.assertEqual(after, before)
                    else:
                        changed = {key for key in before if after[key] != before[key]} - {"reads"}
                        self.assertEqual(bool(changed), kind == "write", changed)
                        if label.startswith("GET /consult/{"):
                            self.assertEqual(after["reads"], before["reads"] + 1)

    def test_a_request_out_of_scope_is_answered_exactly_like_one_that_does_not_exist(self) -> None:
        def seen(response: Any) -> tuple[int, str]:
            """The answer as the user sees it, less the form token and the page's own address."""
            text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())
            return response.status_code, re.sub(r'name="next" type="hidden" value="[^"]*"', "", text)

        for label, row in matrix(MATRIX, len(ROLES) + 1).items():
            for role in OUTSIDE:
                if row[role] != "404":
                    continue
                with self.subTest(endpoint=label, role=role), undone():
                    self.assertEqual(seen(self.request(role, label)), seen(self.request(role, label, missing=True)))

    def test_the_matrix_covers_every_consultation_page_and_form(self) -> None:
        paths = [words[1].split("?")[0] for words in map(str.split, matrix(MATRIX, len(ROLES) + 1))]
        covered = {resolve(p.format(case=1, open=1, sent=1, file=1)).url_name for p in paths}
        self.assertEqual(covered, {pattern.name for pattern in consult_urls.urlpatterns})

    def test_a_forms_address_read_by_a_get_leads_back_to_the_requests_page(self) -> None:
        client = self.web("european")
        for name in ("assign", "message", "draft", "vote", "follow-up", "withdraw", "attach"):
            with self.subTest(name):
                response = client.get(f"/consult/{self.open.pk}/{name}/")
                self.assertEqual((response.status_code, response["Location"]), (302, f"/consult/{self.open.pk}/"))
        self.assertEqual(self.web("dm_paris").get(f"/consult/{self.open.pk}/vote/", follow=True).status_code, 404)


class PageContentTests(PageStory):
    def test_each_list_holds_exactly_the_requests_in_scope_and_no_trace_of_the_others(self) -> None:
        padova = {self.open.pk, self.sent.pk}
        paris = {self.paris_request.pk}
        scope = {
            "dm_padova": padova,
            "clinician": padova,
            "nc_italy": padova,
            "european": padova | paris,
            "expert": padova,
            "dm_paris": paris,
            "nc_france": paris,
            "unassigned": set(),
            "researcher": set(),
        }
        for role, expected in scope.items():
            with self.subTest(role=role):
                response = self.web(role).get("/consult/")
                self.assertEqual({c.pk for c in response.context["rows"]}, expected)
                text = response.content.decode()
                for hidden in {self.open.pk, self.sent.pk, self.paris_request.pk} - expected:
                    self.assertNotIn(f'href="/consult/{hidden}/"', text)
                if not expected & padova:
                    self.assertNotIn("mitotane", text.lower())

    def test_the_case_page_lists_its_requests_and_asks_the_panel_only_for_its_centre_and_a_classified_tumour(
        self,
    ) -> None:
        ask = f'href="/consult/new/?case={self.case.pk}"'
        for role, asks in (("clinician", True), ("dm_padova", True), ("nc_italy", False), ("european", False)):
            with self.subTest(role=role):
                page = self.web(role).get(f"/cases/{self.case.pk}/").content.decode()
                self.assertEqual(ask in page, asks)
                self.assertIn(f'href="/consult/{self.open.pk}/"', page)
                self.assertIn("recommendation sent", page)  # the status of the sent one
                self.assertNotIn(f'href="/consult/{self.paris_request.pk}/"', page)
        unclassified = self.register(self.padova, given="Anna", morphology="8000/3", topography="C80.9")
        page = self.web("clinician").get(f"/cases/{unclassified.pk}/").content.decode()
        self.assertNotIn("/consult/new/", page)
        self.assertNotIn("Expert consultations", page)

    def test_the_dashboard_counts_the_requests_of_the_coordinators_scope(self) -> None:
        for role, count in (("nc_italy", 2), ("nc_france", 1), ("european", 3)):
            with self.subTest(role=role):
                self.assertEqual(self.web(role).get("/consult/dashboard/").context["requests"], count)

    def test_a_median_with_nothing_to_count_is_a_dash_not_nan(self) -> None:
        response = self.web("nc_france").get("/consult/dashboard/")  # one request, never answered
        [row] = response.context["turnaround"]
        self.assertEqual((row["first_response_days"], row["recommendation_days"], row["on_time"]), (None, None, None))
        self.assertNotRegex(response.content.decode(), r"(?i)>\s*nan\s*<")
        self.assertIn('<td class="num">—</td><td class="num">—</td><td class="num">—</td>', response.content.decode())

    def test_an_attachment_is_served_as_a_download_with_the_type_read_from_its_content(self) -> None:
        response = self.web("expert").get(f"/consult/{self.open.pk}/attachments/{self.file.pk}/")
        self.assertEqual(response["Content-Type"], "application/pdf")
        self.assertEqual(response["Content-Disposition"], 'attachment; filename="h.pdf"')
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")
        self.assertIn("sandbox", response["Content-Security-Policy"])
        self.assertEqual(response.content, pdf())
        image = services.add_attachment(self.open, self.clinician, "radiology", 'scan "1".png', png())
        response = self.web("nc_italy").get(f"/consult/{self.open.pk}/attachments/{image.pk}/")
        self.assertEqual(response["Content-Type"], "image/png")
        self.assertEqual(response["Content-Disposition"], 'attachment; filename="scan 1.png"')
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")

    def test_an_expert_reads_the_centres_messages_without_the_centres_names(self) -> None:
        services.post_message(self.open, self.clinician, "No venous invasion on the pathology report.")
        services.post_message(self.open, self.expert_fr, "Thank you.")
        page = self.web("expert").get(f"/consult/{self.open.pk}/").content.decode()
        self.assertIn("the requesting centre", page)
        self.assertIn("expert.fr", page)
        for trace in ("clinician.padova", "Padova", self.case.patient.pseudonym[:12]):
            self.assertNotIn(trace, page)
        self.assertIn("clinician.padova", self.web("european").get(f"/consult/{self.open.pk}/").content.decode())

    def test_the_letter_is_a_pdf_download(self) -> None:
        response = self.web("clinician").get(f"/consult/{self.sent.pk}/letter.pdf")
        self.assertEqual(response["Content-Type"], "application/pdf")
        self.assertTrue(response["Content-Disposition"].startswith("attachment;"))
        self.assertTrue(response.content.startswith(b"%PDF"))
        self.assertEqual(self.web("clinician").get(f"/consult/{self.open.pk}/letter.pdf").status_code, 404)
        # An expert who voted finds the link to the panel's copy (see test_letter_access); one not assigned never does.
        page = self.web("expert").get(f"/consult/{self.sent.pk}/")
        self.assertContains(page, "No radiotherapy.")
        self.assertContains(page, f"/consult/{self.sent.pk}/letter.pdf")

    def test_an_attachment_is_found_only_through_its_own_request(self) -> None:
        theirs = services.add_attachment(self.paris_request, self.dm_paris, "other", "x.pdf", pdf())
        client = self.web("european")  # reads both requests
        self.assertEqual(client.get(f"/consult/{self.paris_request.pk}/attachments/{theirs.pk}/").status_code, 200)
        self.assertEqual(client.get(f"/consult/{self.open.pk}/attachments/{theirs.pk}/").status_code, 404)


class RefusedChangeTests(PageStory):
    """A change the rules refuse shows the reason at the form that asked, keeps what was typed, and
    changes nothing but the access log of the page shown again."""

    def test_too_few_experts_are_refused_at_the_panel_form_with_the_choice_kept(self) -> None:
        consultation = services.submit(self.case, self.clinician, question=QUESTION)
        client = self.web("nc_italy")
        response = client.post(f"/consult/{consultation.pk}/assign/", {"experts": [self.expert.pk, self.expert_fr.pk]})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(
            response.context["errors"], {"panel": ["A panel needs at least 3 experts from at least 2 countries."]}
        )
        page = response.content.decode()
        self.assertRegex(page, rf'value="{self.expert.pk}" checked')
        self.assertNotRegex(page, rf'value="{self.expert_de.pk}" checked')
        self.assertFalse(consultation.assignments.exists())

    def test_a_dissent_without_a_reason_is_refused_at_the_vote_with_the_choice_kept(self) -> None:
        response = self.web("expert_fr").post(f"/consult/{self.open.pk}/vote/", {"vote": "dissent", "version": 1})
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.context["errors"], {"vote": ["Say why you dissent."]})
        self.assertRegex(response.content.decode(), r'value="dissent" checked')
        self.assertFalse(self.open.assignments.exclude(vote="").exists())

    def test_a_revision_made_meanwhile_is_not_overwritten(self) -> None:
        read = {"text": "Mitotane for two years.", "version": 1}
        self.assertEqual(self.web("expert_fr").post(f"/consult/{self.open.pk}/draft/", read).status_code, 302)
        mine = {"text": "Mitotane for six months.", "version": 1}  # written on version 1 too
        response = self.web("expert_de").post(f"/consult/{self.open.pk}/draft/", mine)
        self.assertEqual(response.status_code, 200)
        self.assertIn("revised since you read it", response.context["errors"]["draft"][0])
        self.assertContains(response, "Mitotane for six months.")  # kept in the form
        self.assertContains(response, "Mitotane for two years.")  # and the version that won, shown above
        recommendation = Recommendation.objects.get(consultation=self.open)
        self.assertEqual((recommendation.version, recommendation.text), (2, "Mitotane for two years."))

    def test_a_refused_follow_up_keeps_what_was_typed(self) -> None:
        data = {"followed": "partly", "outcome": "awd", "reason": ""}
        response = self.web("dm_padova").post(f"/consult/{self.sent.pk}/follow-up/", data)
        self.assertEqual(response.context["errors"], {"follow_up": ["Say what was done instead, or why."]})
        page = response.content.decode()
        self.assertIn('<option value="partly" selected>', page)
        self.assertIn('<option value="awd" selected>', page)
        self.assertFalse(Adherence.objects.exists())

    def test_a_file_that_is_not_what_its_name_says_is_refused_at_the_files_form_and_not_stored(self) -> None:
        before = sorted(Path(settings.MEDIA_ROOT).rglob("*.*"))
        upload = SimpleUploadedFile("report.pdf", b"<html><script>alert(1)</script></html>", "application/pdf")
        response = self.web("clinician").post(f"/consult/{self.open.pk}/attach/", {"kind": "other", "file": upload})
        self.assertEqual(response.status_code, 200)
        self.assertIn("report.pdf is not a PDF, PNG or JPEG file", response.context["errors"]["files"][0])
        self.assertEqual(self.open.attachments.count(), 1)
        self.assertEqual(sorted(Path(settings.MEDIA_ROOT).rglob("*.*")), before)

    def test_a_new_request_with_a_bad_file_keeps_the_question_and_stores_nothing(self) -> None:
        count = Consultation.objects.count()
        data = {
            "case": self.case.pk,
            "question": QUESTION,
            "urgency": "routine",
            "file-1": SimpleUploadedFile("scan.pdf", png()),
            "kind-1": "radiology",
        }
        response = self.web("clinician").post("/consult/new/", data)
        self.assertEqual(response.status_code, 200)
        self.assertIn("its content is PNG", response.content.decode())
        self.assertIn(QUESTION, response.content.decode())
        self.assertIn('<option value="radiology" selected>', response.content.decode())
        self.assertEqual(Consultation.objects.count(), count)

    def test_each_file_keeps_its_own_kind_when_a_slot_is_left_empty(self) -> None:
        data = {
            "case": self.case.pk,
            "question": QUESTION,
            "urgency": "routine",
            "kind-1": "pathology",
            "file-2": SimpleUploadedFile("scan.png", png()),
            "kind-2": "radiology",
        }
        response = self.web("clinician").post("/consult/new/", data)
        self.assertEqual(response.status_code, 302)
        consultation = Consultation.objects.get(pk=int(response["Location"].split("/")[2]))
        self.assertEqual(list(consultation.attachments.values_list("name", "kind")), [("scan.png", "radiology")])
