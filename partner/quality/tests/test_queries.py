"""Clarification queries: a coordinator asks, the centre answers and corrects, the coordinator closes."""

import datetime as dt

from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from partner.accounts.models import ApiToken, Membership, Role
from partner.quality import queries
from partner.quality.models import Query, QueryStatus
from partner.testing import RegistryTestCase


class QueryTestCase(RegistryTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        for user in (cls.dm_padova, cls.dm_paris, cls.nc_italy):
            user.email = f"{user.username}@example.org"
            user.save()
        cls.clinician_padova = cls._user("doc.padova", Role.CLINICIAN, centre=cls.padova)
        cls.clinician_padova.email = "doc.padova@example.org"
        cls.clinician_padova.save()
        cls.case = cls.register(cls.padova)
        cls.paris_case = cls.register(cls.paris, given="Léa", family="Martin")

    def raise_on(self, case=None, field="diagnosis.morphology", user=None, **kwargs):
        with self.captureOnCommitCallbacks(execute=True):
            return queries.raise_query(
                case or self.case,
                field,
                kwargs.pop("question", "Is 8370/3 right? The report says adenoma."),
                kwargs.pop("due", None),
                user or self.nc_italy,
                **kwargs,
            )


class TheWholeStoryTests(QueryTestCase):
    def test_a_query_goes_from_the_coordinator_to_the_centre_and_back_until_closed(self):
        self.sign_in(self.client, self.nc_italy)
        new = reverse("quality:query_new") + f"?case={self.case.pk}&field=diagnosis.morphology"
        page = self.client.get(new)
        self.assertContains(page, "ICD-O-3")
        self.assertContains(page, 'value="diagnosis.morphology" selected')
        due = timezone.localdate() + dt.timedelta(days=14)
        self.assertContains(page, f'value="{due.isoformat()}"')
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                new,
                {"field": "diagnosis.morphology", "instance": 0, "question": "Adenoma or carcinoma?", "due": due},
            )
        query = Query.objects.get()
        self.assertRedirects(response, reverse("quality:query", args=[query.pk]))
        self.assertEqual((query.status, query.raised_by, query.due), (QueryStatus.OPEN, self.nc_italy, due))

        self.assertEqual([m.to for m in mail.outbox], [["dm.padova@example.org"]])  # not the clinician
        sent = mail.outbox[0]
        self.assertIn(f"case {self.case.pk}", sent.subject)
        self.assertIn(self.case.patient.pseudonym[:12], sent.body)
        self.assertIn("diagnosis.morphology", sent.body)
        self.assertIn(due.isoformat(), sent.body)
        self.assertIn(f"/quality/queries/{query.pk}/", sent.body)
        for secret in ("Giulia", "Rossi", "Adenoma or carcinoma"):
            self.assertNotIn(secret, sent.subject + sent.body)

        url = reverse("quality:query", args=[query.pk])
        self.sign_in(self.client, self.dm_padova)
        page = self.client.get(url)
        self.assertContains(page, "Adenoma or carcinoma?")
        self.assertContains(page, reverse("cases:detail", args=[self.case.pk]))
        self.assertContains(page, 'value="answer"')
        self.assertNotContains(page, 'value="close"')
        self.client.post(url, {"action": "answer", "answer-text": "Carcinoma: Weiss score 5."})
        query.refresh_from_db()
        first_answer = query.answered_at
        self.assertEqual(query.status, QueryStatus.ANSWERED)
        self.assertIsNotNone(first_answer)

        self.sign_in(self.client, self.nc_italy)
        self.assertContains(self.client.get(url), 'value="close"')
        self.client.post(url, {"action": "reply", "reply-text": "Please attach the review report."})
        query.refresh_from_db()
        self.assertEqual(query.status, QueryStatus.OPEN)

        self.sign_in(self.client, self.dm_padova)
        self.client.post(url, {"action": "answer", "answer-text": "Review by the national panel added."})
        query.refresh_from_db()
        self.assertEqual((query.status, query.answered_at), (QueryStatus.ANSWERED, first_answer))

        self.sign_in(self.client, self.nc_italy)
        self.client.post(url, {"action": "close", "close-text": ""})
        query.refresh_from_db()
        self.assertEqual(query.status, QueryStatus.CLOSED)
        self.assertIsNotNone(query.closed_at)

        history = list(query.history.order_by("history_date", "history_id").values_list("status", "history_user"))
        nc, dm = self.nc_italy.pk, self.dm_padova.pk
        self.assertEqual(history, [("open", nc), ("answered", dm), ("open", nc), ("answered", dm), ("closed", nc)])
        thread = list(query.messages.values_list("author", flat=True))
        self.assertEqual(thread, [nc, dm, nc, dm])
        page = self.client.get(url)
        self.assertNotContains(page, 'value="reply"')
        self.assertContains(page, "dm.padova")

    def test_a_clinician_of_the_centre_may_answer_too(self):
        query = self.raise_on()
        queries.answer(query, "Checked against the pathology report.", self.clinician_padova)
        self.assertEqual(Query.objects.get().status, QueryStatus.ANSWERED)

    def test_a_closed_query_takes_no_more_answers(self):
        query = self.raise_on()
        queries.close(query, self.nc_italy, "raised by mistake")
        with self.assertRaisesMessage(ValidationError, "closed"):
            queries.answer(query, "too late", self.dm_padova)


class WhoMayDoWhatTests(QueryTestCase):
    def test_a_data_manager_cannot_raise_a_query(self):
        with self.assertRaises(PermissionDenied):
            self.raise_on(user=self.dm_padova)
        self.sign_in(self.client, self.dm_padova)
        new = reverse("quality:query_new") + f"?case={self.case.pk}"
        self.assertEqual(self.client.get(new).status_code, 403)
        self.assertEqual(self.client.post(new, {"field": "diagnosis.morphology", "question": "x"}).status_code, 403)
        self.assertFalse(Query.objects.exists())

    def test_a_national_coordinator_raises_only_in_their_country(self):
        with self.assertRaises(PermissionDenied):
            self.raise_on(self.paris_case)
        self.assertEqual(self.raise_on(self.paris_case, user=self.european).case, self.paris_case)

    def test_only_the_coordinator_closes_and_only_the_centre_answers(self):
        query = self.raise_on()
        with self.assertRaises(PermissionDenied):
            queries.close(query, self.dm_padova)
        with self.assertRaises(PermissionDenied):
            queries.answer(query, "I am not from Padova", self.dm_paris)
        with self.assertRaises(PermissionDenied):
            queries.answer(query, "Neither am I", self.nc_italy)
        self.assertEqual(Query.objects.get().status, QueryStatus.OPEN)

    def test_a_query_out_of_scope_is_not_found(self):
        query = self.raise_on()
        url = reverse("quality:query", args=[query.pk])
        for user in (self.dm_paris, self.expert, self.researcher):
            self.sign_in(self.client, user)
            self.assertEqual(self.client.get(url).status_code, 404, user)
            self.assertEqual(self.client.post(url, {"action": "answer", "answer-text": "x"}).status_code, 404)
        self.sign_in(self.client, self.dm_paris)
        new = reverse("quality:query_new") + f"?case={self.case.pk}"
        self.assertEqual(self.client.get(new).status_code, 404)
        self.assertEqual(Query.objects.get().status, QueryStatus.OPEN)


class BadInputTests(QueryTestCase):
    def test_a_field_not_in_the_dictionary_is_refused_with_a_message(self):
        with self.assertRaisesMessage(ValidationError, "has no field no_such_field"):
            self.raise_on(field="diagnosis.no_such_field")
        with self.assertRaisesMessage(ValidationError, "has no form nowhere"):
            self.raise_on(field="nowhere.morphology")
        with self.assertRaisesMessage(ValidationError, "form.field"):
            self.raise_on(field="morphology")
        self.assertFalse(Query.objects.exists())
        self.assertEqual(mail.outbox, [])

    def test_the_raise_form_shows_why_a_field_was_refused(self):
        self.sign_in(self.client, self.nc_italy)
        new = reverse("quality:query_new") + f"?case={self.case.pk}"
        due = timezone.localdate() + dt.timedelta(days=3)
        response = self.client.post(new, {"field": "mel_breslow_mm", "instance": 0, "question": "?", "due": due})
        self.assertEqual(response.status_code, 200)
        self.assertIn("field", response.context["form"].errors)
        self.assertFalse(Query.objects.exists())

    def test_a_module_of_another_tumour_is_refused(self):
        with self.assertRaisesMessage(ValidationError, "not for this case's tumour"):
            self.raise_on(field="melanoma.mel_breslow_mm")
        self.assertEqual(self.raise_on(field="acc.acc_tumour_weight_g").field, "acc.acc_tumour_weight_g")

    def test_the_raise_form_offers_the_case_modules_only(self):
        self.sign_in(self.client, self.nc_italy)
        page = self.client.get(reverse("quality:query_new") + f"?case={self.case.pk}")
        self.assertContains(page, 'value="acc.acc_tumour_weight_g"')
        self.assertNotContains(page, 'value="melanoma.mel_breslow_mm"')
        self.client.post("/i18n/setlang/", {"language": "it"})
        self.assertContains(self.client.get(reverse("quality:query_new") + f"?case={self.case.pk}"), "Peso")

    def test_a_due_date_in_the_past_is_refused_and_none_means_two_weeks(self):
        with self.assertRaisesMessage(ValidationError, "in the past"):
            self.raise_on(due=timezone.localdate() - dt.timedelta(days=1))
        self.assertEqual(self.raise_on().due, timezone.localdate() + dt.timedelta(days=14))

    def test_a_row_must_exist_in_a_repeating_form_and_be_zero_otherwise(self):
        with self.assertRaisesMessage(ValidationError, "has no rows"):
            self.raise_on(instance=2)
        with self.assertRaisesMessage(ValidationError, "no row 3"):
            self.raise_on(field="treatment.line_type", instance=3)

    def test_an_empty_answer_is_refused(self):
        query = self.raise_on()
        with self.assertRaisesMessage(ValidationError, "Write a message"):
            queries.answer(query, "  ", self.dm_padova)
        self.assertEqual(Query.objects.get().status, QueryStatus.OPEN)


class ListTests(QueryTestCase):
    def setUp(self):
        self.padova_query = self.raise_on(question="Padova question")
        milano_case = self.register(self.milano, given="Marco", family="Verdi")
        self.milano_query = self.raise_on(milano_case, question="Milano question")
        self.paris_query = self.raise_on(self.paris_case, user=self.european, question="Paris question")

    def test_a_centre_sees_the_queries_of_its_cases(self):
        self.sign_in(self.client, self.dm_padova)
        page = self.client.get(reverse("quality:queries"))
        self.assertContains(page, "Padova question")
        self.assertNotContains(page, "Milano question")
        self.assertNotContains(page, "Paris question")
        self.assertContains(page, "ICD-O-3")  # the field's label

    def test_a_coordinator_sees_the_queries_of_their_scope(self):
        self.sign_in(self.client, self.nc_italy)
        page = self.client.get(reverse("quality:queries"))
        self.assertContains(page, "Padova question")
        self.assertContains(page, "Milano question")
        self.assertNotContains(page, "Paris question")
        only_padova = self.client.get(reverse("quality:queries"), {"centre": self.padova.code})
        self.assertNotContains(only_padova, "Milano question")
        self.sign_in(self.client, self.european)
        self.assertContains(self.client.get(reverse("quality:queries")), "Paris question")
        mine = self.client.get(reverse("quality:queries"), {"mine": "1"})
        self.assertContains(mine, "Paris question")
        self.assertNotContains(mine, "Padova question")

    def test_the_list_filters_by_status_and_overdue(self):
        queries.answer(self.padova_query, "done", self.dm_padova)
        Query.objects.filter(pk=self.milano_query.pk).update(due=timezone.localdate() - dt.timedelta(days=2))
        self.sign_in(self.client, self.nc_italy)
        answered = self.client.get(reverse("quality:queries"), {"status": "answered"})
        self.assertContains(answered, "Padova question")
        self.assertNotContains(answered, "Milano question")
        late = self.client.get(reverse("quality:queries"), {"overdue": "1"})
        self.assertContains(late, "Milano question")
        self.assertContains(late, "tag req")
        self.assertNotContains(late, "Padova question")

    def test_experts_and_researchers_see_no_query(self):
        for user in (self.expert, self.researcher):
            self.sign_in(self.client, user)
            self.assertNotContains(self.client.get(reverse("quality:queries")), "question")


class ReminderTests(QueryTestCase):
    def setUp(self):
        self.query = self.raise_on()
        mail.outbox.clear()
        self.late = timezone.now() + dt.timedelta(days=15)

    def test_an_overdue_query_is_reminded_at_most_every_three_days(self):
        self.assertEqual(queries.send_reminders(now=timezone.now()), 0)  # not due yet
        self.assertEqual(queries.send_reminders(now=self.late), 1)
        self.assertEqual(mail.outbox[0].to, ["dm.padova@example.org"])
        self.assertIn("Reminder", mail.outbox[0].subject)
        self.assertIn(f"/quality/queries/{self.query.pk}/", mail.outbox[0].body)
        self.assertEqual(queries.send_reminders(now=self.late + dt.timedelta(hours=5)), 0)
        self.assertEqual(queries.send_reminders(now=self.late + dt.timedelta(days=3)), 1)
        self.assertEqual(len(mail.outbox), 2)

    def test_a_closed_or_answered_query_is_never_reminded(self):
        queries.answer(self.query, "done", self.dm_padova)
        self.assertEqual(queries.send_reminders(now=self.late), 0)
        queries.close(self.query, self.nc_italy)
        self.assertEqual(queries.send_reminders(now=self.late + dt.timedelta(days=30)), 0)
        self.assertEqual(mail.outbox, [])

    def test_every_data_manager_of_the_centre_is_reminded(self):
        other = self._user("dm2.padova", Role.DATA_MANAGER, centre=self.padova)
        other.email = "dm2.padova@example.org"
        other.save()
        Membership.objects.create(user=self.dm_paris, role=Role.CLINICIAN, centre=self.padova)  # not a data manager
        self.assertEqual(queries.send_reminders(now=self.late), 2)
        self.assertEqual(sorted(m.to[0] for m in mail.outbox), ["dm.padova@example.org", "dm2.padova@example.org"])


class ApiTests(QueryTestCase):
    def bearer(self, user):
        _, key = ApiToken.issue(user, "test")
        return {"authorization": f"Bearer {key}"}

    def post(self, url, data, user):
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post(url, data, content_type="application/json", headers=self.bearer(user))

    def test_a_query_goes_round_through_the_api(self):
        raised = self.post(
            "/api/quality/queries",
            {"case": self.case.pk, "field": "diagnosis.topography", "question": "C74.0 or C74.9?"},
            self.nc_italy,
        )
        self.assertEqual(raised.status_code, 201, raised.content)
        body = raised.json()
        self.assertEqual((body["status"], body["field"], body["case"]), ("open", "diagnosis.topography", self.case.pk))
        self.assertEqual(body["due"], (timezone.localdate() + dt.timedelta(days=14)).isoformat())
        self.assertEqual(len(mail.outbox), 1)
        url = f"/api/quality/queries/{body['id']}"

        listed = self.client.get("/api/quality/queries", {"status": "open"}, headers=self.bearer(self.dm_padova))
        self.assertEqual([q["id"] for q in listed.json()["items"]], [body["id"]])
        self.assertEqual(
            self.post(url + "/answer", {"text": "C74.0, cortex."}, self.dm_padova).json()["status"], "answered"
        )
        self.assertEqual(self.post(url + "/reply", {"text": "Which side?"}, self.nc_italy).json()["status"], "open")
        self.assertEqual(self.post(url + "/answer", {"text": "Left."}, self.dm_padova).json()["status"], "answered")
        closed = self.post(url + "/close", {"text": "Thank you."}, self.nc_italy)
        self.assertEqual(closed.json()["status"], "closed")
        detail = self.client.get(url, headers=self.bearer(self.dm_padova)).json()
        authors = [m["author"] for m in detail["messages"]]
        self.assertEqual(authors, ["nc.italy", "dm.padova", "nc.italy", "dm.padova", "nc.italy"])

    def test_the_api_hides_a_query_out_of_scope_and_refuses_wrong_roles(self):
        query = self.raise_on()
        url = f"/api/quality/queries/{query.pk}"
        self.assertEqual(self.client.get(url, headers=self.bearer(self.dm_paris)).status_code, 404)
        self.assertEqual(self.post(url + "/answer", {"text": "x"}, self.dm_paris).status_code, 404)
        self.assertEqual(self.client.get("/api/quality/queries", headers=self.bearer(self.dm_paris)).json()["count"], 0)
        self.assertEqual(self.post(url + "/close", {}, self.dm_padova).status_code, 403)
        raised = self.post(
            "/api/quality/queries",
            {"case": self.case.pk, "field": "diagnosis.morphology", "question": "?"},
            self.dm_padova,
        )
        self.assertEqual(raised.status_code, 403)
        self.assertEqual(Query.objects.get().status, QueryStatus.OPEN)

    def test_a_bad_field_gets_422_naming_it(self):
        response = self.post(
            "/api/quality/queries", {"case": self.case.pk, "field": "diagnosis.nothing", "question": "?"}, self.nc_italy
        )
        self.assertEqual(response.status_code, 422)
        self.assertEqual(response.json()["errors"][0]["field"], "field")
        self.assertIn("has no field nothing", response.json()["detail"])
