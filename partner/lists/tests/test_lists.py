"""The lists: filters from the query string, search, sorting, pages, counts, downloads and scoping."""

from __future__ import annotations

import csv
import datetime as dt
import io

from django.contrib.auth import get_user_model
from django.urls import reverse
from openpyxl import load_workbook

from partner.accounts.models import Membership, Role
from partner.cases.models import AccessLog, FormRecord, TumourCase
from partner.consult.models import Consultation, Panel
from partner.datarequests.models import DataRequest
from partner.linkage.models import CandidatePair
from partner.quality.models import Finding, Query
from partner.testing import RegistryTestCase


def _csv(response):
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


class CaseListTestCase(RegistryTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.acc = cls.register(cls.padova, "Anna", "Bianchi", case_status="submitted", diagnosed="2020-03-01")
        TumourCase.objects.filter(pk=cls.acc.pk).update(external_id="=HYPERLINK(1)")
        cls.mel = cls.register(
            cls.milano,
            "Luca",
            "Verdi",
            diagnosed="2023-06-01",
            morphology="8720/3",
            topography="C44.5",
            case_status="validated",
        )
        cls.paris_case = cls.register(cls.paris, "Marie", "Curie", diagnosed="2024-01-05")
        cls.acc.refresh_from_db()

    def ids(self, query, user=None):
        self.sign_in(self.client, user or self.european)
        response = self.client.get(reverse("cases:list"), query)
        self.assertEqual(response.status_code, 200)
        return [c.pk for c in response.context["rows"]]


class TheCaseListFiltersByEveryFilter(CaseListTestCase):
    def test_status(self):
        self.assertEqual(self.ids({"status": "validated"}), [self.mel.pk])

    def test_centre_and_country(self):
        self.assertEqual(self.ids({"centre": "IT-MI"}), [self.mel.pk])
        self.assertEqual(self.ids({"country": "FR"}), [self.paris_case.pk])

    def test_entity(self):
        self.assertEqual(self.ids({"entity": self.mel.entity.code}), [self.mel.pk])
        self.assertEqual(set(self.ids({"entity": self.acc.entity.code})), {self.acc.pk, self.paris_case.pk})

    def test_dates_of_diagnosis(self):
        self.assertEqual(set(self.ids({"diagnosed_after": "2023-01-01"})), {self.mel.pk, self.paris_case.pk})
        self.assertEqual(self.ids({"diagnosed_before": "2021-01-01"}), [self.acc.pk])

    def test_followup_due(self):
        record = FormRecord.objects.filter(case=self.mel, form__code="diagnosis").first()
        self.assertIsNotNone(record)
        due = self.ids({"followup_due": "1"})
        self.assertIn(self.acc.pk, due)  # diagnosed in 2020, no contact since

    def test_open_errors_and_queries(self):
        Finding.objects.create(case=self.mel, rule="r", severity="error", field="diagnosis.morphology", values="x")
        Query.objects.create(
            case=self.acc, field="diagnosis.morphology", question="?", due=dt.date.today(), raised_by=self.nc_italy
        )
        self.assertEqual(self.ids({"open": "errors"}), [self.mel.pk])
        self.assertEqual(self.ids({"open": "queries"}), [self.acc.pk])

    def test_an_unknown_value_is_named_on_the_page_not_a_500(self):
        self.sign_in(self.client, self.european)
        response = self.client.get(reverse("cases:list"), {"status": "bogus", "diagnosed_after": "yesterday"})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "The list ignores this filter.", count=2)


class TheCaseListSearches(CaseListTestCase):
    def test_by_case_id_external_id_and_pseudonym(self):
        self.assertEqual(self.ids({"q": f"#{self.mel.pk}"}), [self.mel.pk])
        self.assertEqual(self.ids({"q": "=hyperlink(1)"}), [self.acc.pk])
        self.assertEqual(self.ids({"q": self.paris_case.patient.pseudonym[:8]}), [self.paris_case.pk])

    def test_by_entity_code_or_name(self):
        self.assertEqual(self.ids({"q": self.mel.entity.code}), [self.mel.pk])
        self.assertEqual(self.ids({"q": "melanoma"}), [self.mel.pk])


class TheCaseListSortsAndPages(CaseListTestCase):
    def test_each_sortable_column_sorts_both_ways(self):
        for column in ("id", "external_id", "entity", "codes", "diagnosis_date", "centre", "status"):
            up, down = self.ids({"sort": column}), self.ids({"sort": f"-{column}"})
            self.assertEqual(sorted(up), sorted(down), column)
            self.assertEqual(len(up), 3, column)
        self.assertEqual(self.ids({"sort": "diagnosis_date"}), [self.acc.pk, self.mel.pk, self.paris_case.pk])
        self.assertEqual(self.ids({"sort": "-diagnosis_date"}), [self.paris_case.pk, self.mel.pk, self.acc.pk])
        self.assertEqual(self.ids({"sort": "centre"}), [self.paris_case.pk, self.mel.pk, self.acc.pk])

    def test_pages_and_the_count(self):
        self.assertEqual(self.ids({"sort": "id", "per_page": 2}), [self.acc.pk, self.mel.pk])
        self.assertEqual(self.ids({"sort": "id", "per_page": 2, "page": 2}), [self.paris_case.pk])
        self.assertEqual(self.ids({"sort": "id", "per_page": 2, "page": 99}), [self.paris_case.pk])
        response = self.client.get(reverse("cases:list"), {"status": "validated", "per_page": "x", "page": "y"})
        self.assertContains(response, "1 case<")
        self.assertContains(self.client.get(reverse("cases:list")), "3 cases<")


class TheCaseListDownloads(CaseListTestCase):
    def test_csv_and_xlsx_hold_the_filtered_sorted_rows_with_formulas_neutralised(self):
        self.sign_in(self.client, self.nc_italy)
        response = self.client.get(reverse("cases:list"), {"sort": "-id", "_export": "csv"})
        rows = _csv(response)
        self.assertEqual([r[0] for r in rows[1:]], [str(self.mel.pk), str(self.acc.pk)])
        self.assertEqual(rows[2][1], "'=HYPERLINK(1)")
        book = load_workbook(
            io.BytesIO(self.client.get(reverse("cases:list"), {"sort": "-id", "_export": "xlsx"}).content)
        )
        sheet = [[c.value for c in row] for row in book.active.iter_rows()]
        self.assertEqual([str(r[0]) for r in sheet[1:]], [str(self.mel.pk), str(self.acc.pk)])
        self.assertEqual(sheet[2][1], "'=HYPERLINK(1)")
        only = _csv(self.client.get(reverse("cases:list"), {"status": "validated", "_export": "csv"}))
        self.assertEqual([r[0] for r in only[1:]], [str(self.mel.pk)])

    def test_a_download_is_logged_as_a_read_of_each_case(self):
        self.sign_in(self.client, self.dm_padova)
        self.client.get(reverse("cases:list"), {"_export": "csv"})
        self.assertEqual(
            set(AccessLog.objects.filter(user=self.dm_padova).values_list("case_id", flat=True)), {self.acc.pk}
        )

    def test_a_download_logs_the_reader_s_address(self):
        self.sign_in(self.client, self.dm_padova)
        self.client.get(reverse("cases:list"), {"_export": "csv"}, REMOTE_ADDR="192.0.2.7")
        self.assertEqual(
            set(AccessLog.objects.filter(user=self.dm_padova).values_list("address", flat=True)), {"192.0.2.7"}
        )

    def test_a_download_in_another_format_is_a_bad_request(self):
        self.sign_in(self.client, self.dm_padova)
        self.assertEqual(self.client.get(reverse("cases:list"), {"_export": "pdf"}).status_code, 400)
        self.assertFalse(AccessLog.objects.filter(user=self.dm_padova).exists())

    def test_researchers_and_experts_may_not_download(self):
        for user in (self.researcher, self.expert):
            self.sign_in(self.client, user)
            for fmt in ("csv", "xlsx"):
                self.assertEqual(self.client.get(reverse("cases:list"), {"_export": fmt}).status_code, 403)
            self.assertNotContains(self.client.get(reverse("cases:list")), "_export=")


class NoListShowsPadovaToParis(CaseListTestCase):
    def test_lists_and_downloads_of_a_paris_data_manager(self):
        Finding.objects.create(case=self.acc, rule="r", severity="error", field="diagnosis.morphology", values="x")
        Query.objects.create(
            case=self.acc, field="diagnosis.morphology", question="?", due=dt.date.today(), raised_by=self.nc_italy
        )
        self.sign_in(self.client, self.dm_paris)
        for name in ("cases:list", "quality:findings", "quality:queries", "consult:list"):
            page = self.client.get(reverse(name), {"status": ""})
            self.assertNotContains(page, self.acc.patient.pseudonym[:12])
            self.assertNotContains(page, "IT-PD")
            self.assertNotIn(self.acc.pk, [getattr(r, "case_id", r.pk) for r in page.context["rows"]])
            rows = _csv(self.client.get(reverse(name), {"status": "", "_export": "csv"}))
            self.assertNotIn("IT-PD", str(rows))
        self.assertEqual(self.ids({"centre": "IT-PD"}, self.dm_paris), [self.paris_case.pk])


class TheFindingsList(CaseListTestCase):
    def test_filters_search_and_the_raise_a_query_link(self):
        error = Finding.objects.create(case=self.acc, rule="weiss", severity="error", field="acc.weiss", values="12")
        Finding.objects.create(
            case=self.mel, rule="other", severity="warning", field="diagnosis.x", values="1", status="resolved"
        )
        self.sign_in(self.client, self.nc_italy)

        def ids(query):
            return [f.pk for f in self.client.get(reverse("quality:findings"), query).context["rows"]]

        self.assertEqual(ids({}), [error.pk])  # open by default
        self.assertEqual(len(ids({"status": ""})), 2)
        self.assertEqual(ids({"status": "", "severity": "error"}), [error.pk])
        self.assertEqual(ids({"status": "", "rule": "weiss"}), [error.pk])
        self.assertEqual(ids({"status": "", "centre": "IT-MI"}), [ids({"status": "resolved"})[0]])
        self.assertEqual(len(ids({"status": "", "country": "IT"})), 2)
        self.assertEqual(ids({"status": "", "entity": self.acc.entity.code}), [error.pk])
        self.assertEqual(ids({"status": "", "q": str(self.acc.pk)}), [error.pk])
        self.assertContains(self.client.get(reverse("quality:findings")), f"?finding={error.pk}")
        self.sign_in(self.client, self.dm_padova)
        self.assertNotContains(self.client.get(reverse("quality:findings")), "?finding=")


class TheQueriesList(CaseListTestCase):
    def test_it_opens_on_the_open_queries_newest_first(self):
        older = Query.objects.create(
            case=self.acc,
            field="diagnosis.morphology",
            question="old",
            due=dt.date.today() - dt.timedelta(days=3),
            raised_by=self.nc_italy,
        )
        newer = Query.objects.create(
            case=self.mel,
            field="diagnosis.morphology",
            question="new",
            due=dt.date.today() + dt.timedelta(days=9),
            raised_by=self.nc_italy,
        )
        closed = Query.objects.create(
            case=self.acc,
            field="diagnosis.morphology",
            question="done",
            due=dt.date.today(),
            raised_by=self.nc_italy,
            status="closed",
        )
        self.sign_in(self.client, self.nc_italy)

        def ids(query):
            return [q.pk for q in self.client.get(reverse("quality:queries"), query).context["rows"]]

        self.assertEqual(ids({}), [newer.pk, older.pk])
        self.assertEqual(set(ids({"status": ""})), {older.pk, newer.pk, closed.pk})
        self.assertEqual(ids({"status": "closed"}), [closed.pk])
        self.assertEqual(ids({"overdue": "1"}), [older.pk])
        self.assertEqual(ids({"centre": "IT-MI"}), [newer.pk])
        self.assertEqual(ids({"country": "IT", "sort": "due"}), [older.pk, newer.pk])
        self.assertEqual(ids({"q": "old"}), [older.pk])


class TheConsultationList(CaseListTestCase):
    def test_unassigned_and_awaiting_me(self):
        from django.utils import timezone

        now = timezone.now()
        waiting = Consultation.objects.create(
            case=self.acc,
            panel=Panel.ENDOCRINE,
            question="Which chemotherapy?",
            summary={},
            requested_by=self.dm_padova,
            submitted_at=now,
            due=now,
        )
        assigned = Consultation.objects.create(
            case=self.mel,
            panel=Panel.SKIN_MELANOMA,
            question="Surgery?",
            summary={},
            status="assigned",
            requested_by=self.dm_padova,
            submitted_at=now,
            due=now,
            urgency="urgent",
        )
        assigned.assignments.create(expert=self.expert, country=self.italy, assigned_by=self.european)
        self.sign_in(self.client, self.european)

        def ids(query):
            return [c.pk for c in self.client.get(reverse("consult:list"), query).context["rows"]]

        self.assertEqual(ids({"unassigned": "1"}), [waiting.pk])
        self.assertEqual(ids({"urgency": "urgent"}), [assigned.pk])
        self.assertEqual(ids({"panel": Panel.ENDOCRINE}), [waiting.pk])
        self.assertEqual(ids({"status": "assigned"}), [assigned.pk])
        self.assertEqual(ids({"q": "chemotherapy"}), [waiting.pk])
        self.sign_in(self.client, self.expert)
        self.assertEqual(ids({"awaiting": "me"}), [assigned.pk])
        self.assertEqual(self.client.get(reverse("consult:list"), {"_export": "csv"}).status_code, 403)


class TheLinkageQueue(CaseListTestCase):
    def test_it_shows_and_filters_by_entity_country_birth_year_and_similarity(self):
        close = CandidatePair.objects.create(
            left=self.acc.patient, right=self.paris_case.patient, similarity=0.95, schema_version="1"
        )
        far = CandidatePair.objects.create(
            left=self.mel.patient, right=self.paris_case.patient, similarity=0.7, schema_version="1"
        )
        TumourCase.objects.filter(pk=self.mel.pk)  # different entity on the left
        self.sign_in(self.client, self.european)

        def ids(query):
            return [p.pk for p in self.client.get(reverse("linkage:queue"), query).context["rows"]]

        self.assertEqual(ids({}), [close.pk, far.pk])
        self.assertEqual(ids({"sort": "similarity"}), [far.pk, close.pk])
        self.assertEqual(ids({"entity": self.mel.entity.code}), [far.pk])
        self.assertEqual(ids({"country": "FR"}), [close.pk, far.pk])
        self.assertEqual(ids({"birth_year": 2012}), [close.pk, far.pk])
        self.assertEqual(ids({"birth_year": 1999}), [])
        self.assertEqual(ids({"similarity_min": 0.9}), [close.pk])
        self.assertEqual(ids({"similarity_max": 0.9}), [far.pk])
        self.assertEqual(ids({"status": "same"}), [])
        page = self.client.get(reverse("linkage:queue"))
        for text in (self.acc.entity.name, "IT · FR", "2012", "0.950"):
            self.assertContains(page, text)
        rows = _csv(self.client.get(reverse("linkage:queue"), {"_export": "csv"}))
        self.assertEqual([r[0] for r in rows[1:]], ["0.950", "0.700"])


class TheDataRequestList(CaseListTestCase):
    def test_filters_and_search(self):
        mine = DataRequest.objects.create(
            requester=self.researcher, title="Survival of ACC", purpose="p", dictionary_version=1
        )
        other_researcher = get_user_model().objects.create_user("r2")
        Membership.objects.create(user=other_researcher, role=Role.RESEARCHER)
        theirs = DataRequest.objects.create(
            requester=other_researcher,
            title="Melanoma",
            purpose="p",
            dictionary_version=1,
            status="approved",
            decided_by=self.european,
            decided_at=dt.datetime.now(dt.UTC),
        )
        self.sign_in(self.client, self.european)

        def ids(query):
            return [r.pk for r in self.client.get(reverse("datarequests:list"), query).context["rows"]]

        self.assertEqual(ids({"sort": "id"}), [mine.pk, theirs.pk])
        self.assertEqual(ids({"status": "approved"}), [theirs.pk])
        self.assertEqual(ids({"q": "survival"}), [mine.pk])
        self.assertEqual(ids({"mine": "1"}), [])
        self.sign_in(self.client, self.researcher)
        self.assertEqual(ids({}), [mine.pk])


class TheCohortPreview(CaseListTestCase):
    def test_a_researcher_gets_a_released_count_and_small_counts_hidden(self):
        self.sign_in(self.client, self.researcher)
        response = self.client.get(reverse("datarequests:preview"), {"entities": [self.mel.entity.code]})
        self.assertContains(response, "too few to show")
        self.assertNotContains(response, "1 case")
        response = self.client.get(reverse("datarequests:preview"), {"period_start": "2020-03-02"})
        self.assertContains(response, "whole calendar years")

    def test_the_coordinator_gets_the_exact_count(self):
        self.sign_in(self.client, self.european)
        response = self.client.get(reverse("datarequests:preview"), {"entities": [self.mel.entity.code]})
        self.assertContains(response, "<strong>1 case</strong>", html=False)

    def test_a_large_cohort_is_shown_to_a_researcher_as_released(self):
        for n in range(12):
            self.register(self.padova, f"Kid{n}", "Rossi", born="2010-01-0" + str(n % 9 + 1), case_status="validated")
        self.sign_in(self.client, self.researcher)
        response = self.client.get(reverse("datarequests:preview"))
        self.assertContains(response, "About ")
