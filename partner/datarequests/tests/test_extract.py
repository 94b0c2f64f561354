"""The whole story on the pages, and what an extract holds: exactly the approved variables of exactly the cohort."""

import json

from django.urls import reverse

from partner.cases.consent import withdraw_consent
from partner.cases.models import AccessLog, Status, TumourCase
from partner.datarequests import selection, services
from partner.datarequests.extract import row_id
from partner.datarequests.models import DataRequest, RequestStatus
from partner.interop.models import ExportLog

from .story import FORMULA, VARIABLES, DataRequestTestCase, header, rows, unzip


class TheWholeStoryTests(DataRequestTestCase):
    def test_a_researcher_asks_the_coordinator_approves_and_the_researcher_downloads_what_was_approved(self):
        self.sign_in(self.client, self.researcher)
        page = self.client.get(reverse("datarequests:new"))
        self.assertContains(page, 'name="variables" value="diagnosis.morphology"')
        self.assertContains(page, 'value="treatment.line_type"')
        self.assertNotContains(page, 'value="registration.pseudonym"')
        self.assertContains(page, '<input type="checkbox" name="entities" value="ACC"', html=False)
        response = self.client.post(
            reverse("datarequests:new"),
            {
                "title": "Treatment of paediatric ACC",
                "purpose": "Which treatments do children with ACC receive, by age?",
                "variables": VARIABLES,
                "entities": ["ACC"],
            },
        )
        item = DataRequest.objects.get()
        self.assertRedirects(response, reverse("datarequests:detail", args=[item.pk]))
        self.assertEqual((item.requester, item.status), (self.researcher, RequestStatus.SUBMITTED))
        self.assertEqual(item.cohort["entities"], ["ACC"])
        self.assertNotContains(self.client.get(response["Location"]), 'name="decision"')

        self.sign_in(self.client, self.european)
        page = self.client.get(reverse("datarequests:detail", args=[item.pk]))
        self.assertContains(page, "Which treatments do children with ACC receive")
        self.assertContains(page, 'name="decision"')
        self.assertEqual(page.context["cohort_size"], 3)
        response = self.client.post(
            reverse("datarequests:decide", args=[item.pk]), {"decision": "approved", "note": "Within the consent."}
        )
        self.assertRedirects(response, reverse("datarequests:detail", args=[item.pk]))
        item.refresh_from_db()
        self.assertEqual((item.status, item.decided_by), (RequestStatus.APPROVED, self.european))
        self.assertIsNotNone(item.decided_at)

        self.sign_in(self.client, self.researcher)
        page = self.client.get(reverse("datarequests:detail", args=[item.pk]))
        self.assertContains(page, reverse("datarequests:extract", args=[item.pk]))
        job = self.client.get(reverse("datarequests:extract", args=[item.pk]), follow=True).context["job"]
        response = self.client.get(reverse("jobs:download", args=[job.pk]))  # built by the worker
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Content-Type"], "application/zip")
        self.assertIn(f"data-request-{item.pk}-", response["Content-Disposition"])
        files = unzip(response.content)
        self.assertEqual(set(files), {"cases.csv", "treatment.csv", "variables.csv", "manifest.json"})
        cases = rows(files["cases.csv"])
        self.assertEqual({r["row_id"] for r in cases}, {row_id(item.salt, pk) for pk in self.acc_extracted})
        by_case = {r["row_id"]: r for r in cases}
        padova = by_case[row_id(item.salt, self.acc_padova.pk)]
        self.assertEqual(padova["registration.sex"], "female")
        self.assertEqual(padova["diagnosis.diagnosis_date"], "2024-02-10")
        self.assertEqual(by_case[row_id(item.salt, self.acc_paris.pk)]["registration.sex"], "male")
        item.refresh_from_db()
        self.assertEqual(item.download_count, 1)


class ContentsTests(DataRequestTestCase):
    def test_the_files_hold_exactly_the_approved_variables_named_form_dot_field_in_the_dictionarys_order(self):
        files = self.extract(self.approved())
        self.assertEqual(
            header(files["cases.csv"]),
            ["row_id", "registration.sex", "registration.trial_identifier", "diagnosis.diagnosis_date"],
        )
        self.assertEqual(header(files["treatment.csv"]), ["row_id", "instance", "treatment.line_type"])
        self.assertNotIn("follow_up.csv", files)  # no follow-up variable asked for

    def test_a_repeating_form_has_a_row_per_line_keyed_by_the_same_row_id_as_the_case(self):
        item = self.approved()
        files = self.extract(item)
        lines = [(r["row_id"], r["instance"], r["treatment.line_type"]) for r in rows(files["treatment.csv"])]
        padova, paris = row_id(item.salt, self.acc_padova.pk), row_id(item.salt, self.acc_paris.pk)
        self.assertEqual(
            sorted(lines), sorted([(padova, "1", "surgery"), (padova, "2", "chemotherapy"), (paris, "1", "surgery")])
        )
        self.assertLessEqual({line[0] for line in lines}, {r["row_id"] for r in rows(files["cases.csv"])})

    def test_the_cases_are_exactly_the_validated_ones_of_the_cohort_with_consent_standing(self):
        files = self.extract(self.approved())
        self.assertEqual(len(rows(files["cases.csv"])), 3)
        item = self.approved(entities=["ACC"], countries=["IT"])
        got = {r["row_id"] for r in rows(self.extract(item)["cases.csv"])}
        self.assertEqual(got, {row_id(item.salt, self.acc_padova.pk), row_id(item.salt, self.acc_locked.pk)})
        for left_out in (self.acc_draft, self.acc_submitted, self.acc_withdrawn, self.melanoma, self.acc_paris):
            self.assertNotIn(row_id(item.salt, left_out.pk), got)

    def test_every_filter_of_the_cohort_narrows_the_cases(self):
        cohorts = {
            "period": ({"entities": ["ACC"], "period_start": "2020-01-01", "period_end": "2022-12-31"}, {"acc_paris"}),
            "age": ({"age_groups": ["10-14"]}, {"acc_padova", "acc_paris", "melanoma"}),
            "sex": ({"sexes": ["male"]}, {"acc_paris", "melanoma"}),
            "stage": ({"stages": ["II"]}, {"acc_padova"}),
            "entity": ({"entities": ["MELANOMA"]}, {"melanoma"}),
            "everything": ({}, {"acc_padova", "acc_paris", "acc_locked", "melanoma"}),
        }
        for label, (cohort, expected) in cohorts.items():
            with self.subTest(filter=label):
                item = services.submit(
                    user=self.researcher, title=label, purpose="p", variables=["registration.sex"], cohort=cohort
                )
                _frames, selected = services.cohort_frames(item)
                self.assertEqual(set(selected["case_id"]), {getattr(self, name).pk for name in expected})

    def test_a_case_whose_consent_is_withdrawn_after_the_approval_leaves_the_next_download(self):
        item = self.approved()
        before = {r["row_id"] for r in rows(self.extract(item)["cases.csv"])}
        withdraw_consent(
            case=self.acc_paris, withdrawn_on=self.acc_paris.created.date(), erase=False, user=self.european
        )
        after = {r["row_id"] for r in rows(self.extract(item)["cases.csv"])}
        self.assertEqual(before - after, {row_id(item.salt, self.acc_paris.pk)})

    def test_a_case_validated_after_the_approval_comes_in_the_next_download(self):
        item = self.approved()
        self.assertEqual(len(rows(self.extract(item)["cases.csv"])), 3)
        TumourCase.objects.filter(pk=self.acc_submitted.pk).update(status=Status.VALIDATED)
        got = {r["row_id"] for r in rows(self.extract(item)["cases.csv"])}
        self.assertIn(row_id(item.salt, self.acc_submitted.pk), got)

    def test_row_ids_are_keyed_hashes_that_differ_between_two_requests_for_the_same_case(self):
        first, second = self.approved(), self.approved(user=self.other_researcher)
        self.assertNotEqual(first.salt, second.salt)
        ids = [
            {r["row_id"] for r in rows(self.extract(item, user)["cases.csv"])}
            for item, user in (
                (first, self.researcher),
                (second, self.other_researcher),
            )
        ]
        self.assertEqual(len(ids[0]), 3)
        self.assertEqual(ids[0] & ids[1], set())
        self.assertNotEqual(row_id(first.salt, self.acc_padova.pk), row_id(second.salt, self.acc_padova.pk))
        for value in ids[0] | ids[1]:
            self.assertRegex(value, r"^[0-9a-f]{32}$")

    def test_no_case_id_pseudonym_centre_or_identifier_at_the_source_leaves_in_any_file(self):
        variables = [
            f"{form.code}.{f.code}"
            for form, fields in selection.requestable_fields(self.dictionary)
            for f in fields
            if not form.is_module
        ]
        files = self.extract(self.approved(variables=variables, entities=["ACC"]))
        everything = "\n".join(files.values())
        for case in (self.acc_padova, self.acc_paris, self.acc_locked):
            self.assertNotIn(case.patient.pseudonym, everything)
            self.assertNotIn(case.patient.pseudonym[:12], everything)
            self.assertNotIn(case.centre.code, everything)
        self.assertNotIn("TREP-2019-0042", everything)
        for name in ("cases.csv", "treatment.csv", "follow_up.csv"):
            self.assertNotIn("case_id", header(files[name]))
            self.assertNotIn("pseudonym", " ".join(header(files[name])))
            for row in rows(files[name]):
                self.assertNotIn(row["row_id"], {str(pk) for pk in self.acc_extracted})

    def test_a_value_a_spreadsheet_would_run_gets_the_exports_leading_apostrophe(self):
        item = self.approved()
        padova = next(
            r for r in rows(self.extract(item)["cases.csv"]) if r["row_id"] == row_id(item.salt, self.acc_padova.pk)
        )
        self.assertEqual(padova["registration.trial_identifier"], "'" + FORMULA)

    def test_the_codebook_and_the_manifest_describe_the_files(self):
        item = self.approved()
        files = self.extract(item)
        codebook = {r["column"]: r for r in rows(files["variables.csv"])}
        self.assertEqual(set(codebook), {"row_id", "instance", *VARIABLES})
        self.assertEqual(codebook["treatment.line_type"]["file"], "treatment.csv")
        self.assertIn("surgery=Surgery", codebook["treatment.line_type"]["values"])
        self.assertEqual(codebook["diagnosis.diagnosis_date"]["type"], "date")
        manifest = json.loads(files["manifest.json"])
        self.assertEqual(manifest["request"], item.pk)
        self.assertEqual(manifest["files"], {"cases.csv": 3, "treatment.csv": 3})
        self.assertEqual(manifest["case_statuses"], ["validated", "locked"])
        self.assertEqual(manifest["cohort"]["entities"], ["ACC"])


class LoggingTests(DataRequestTestCase):
    def test_every_download_is_in_the_export_log_the_access_log_and_the_requests_history(self):
        item = self.approved()
        exports, reads = ExportLog.objects.count(), AccessLog.objects.count()
        self.extract(item)
        self.extract(item)
        self.assertEqual(ExportLog.objects.count(), exports + 2)
        log = ExportLog.objects.first()
        self.assertEqual((log.user, log.format, log.case_count), (self.researcher, "csv", 3))
        self.assertEqual(sorted(log.case_ids), sorted(self.acc_extracted))
        self.assertEqual(log.destination, f"data request #{item.pk}: download")
        new_reads = AccessLog.objects.order_by("-id")[: AccessLog.objects.count() - reads]
        self.assertEqual(len(new_reads), 6)
        self.assertEqual(
            {(r.user, r.case_id, r.what) for r in new_reads},
            {(self.researcher, pk, f"data request {item.pk}") for pk in self.acc_extracted},
        )
        item.refresh_from_db()
        self.assertEqual(item.download_count, 2)
        self.assertIsNotNone(item.last_downloaded_at)
        events = [(h["who"], h["event"]) for h in services.history(item)]
        self.assertEqual(
            events,
            [
                ("researcher", "extract downloaded (2)"),
                ("researcher", "extract downloaded (1)"),
                ("ec.europe", "approved"),
                ("researcher", "submitted"),
            ],
        )

    def test_the_history_is_on_the_requests_page_and_the_salt_is_not_in_it(self):
        item = self.approved()
        self.extract(item)
        self.assertEqual(item.history.count(), 3)
        self.assertFalse(hasattr(item.history.first(), "salt"))
        self.sign_in(self.client, self.researcher)
        page = self.client.get(reverse("datarequests:detail", args=[item.pk]))
        self.assertEqual(
            [h["event"] for h in page.context["history"]], ["extract downloaded (1)", "approved", "submitted"]
        )
        self.assertContains(page, "Fine.")
        self.assertNotContains(page, item.salt)
