"""Entering one form of a case at a time, from the case's overview, through the same save as the whole case."""

import re
from unittest import mock

from django.urls import reverse

from partner.cases import editing
from partner.cases.models import FormRecord, Status, TumourCase
from partner.cases.tests.test_edit import page_data, treatment
from partner.quality.models import Finding, Query
from partner.testing import RegistryTestCase


def statuses(response):
    return {f.code: f.status for f in response.context["overview"]}


class TheOverviewGivesEachFormItsStatus(RegistryTestCase):
    def setUp(self):
        self.sign_in(self.client, self.dm_padova)

    def test_a_new_draft_lists_its_forms_in_dictionary_order_with_their_status(self):
        case = self.register(self.padova)
        response = self.client.get(reverse("cases:detail", args=[case.pk]))
        overview = response.context["overview"]
        self.assertEqual(
            [f.code for f in overview],
            ["registration", "diagnosis", "acc", "treatment", "follow_up", "status", "consent"],
        )
        self.assertEqual(
            statuses(response),
            {
                "registration": "complete",
                "diagnosis": "incomplete",  # the basis of diagnosis is required and missing
                "acc": "not_started",
                "treatment": "not_started",
                "follow_up": "not_started",
                "status": "not_started",
                "consent": "not_started",
            },
        )
        self.assertContains(response, reverse("cases:edit_form", args=[case.pk, "treatment"]))
        self.assertContains(response, "1 required answer missing")

    def test_a_required_answer_that_applies_only_under_a_condition_counts(self):
        case = self.register(
            self.padova,
            treatment=[
                {"line_type": "chemotherapy", "treatment_start_date": "2024-03-01", "chemo_agents": ["cisplatin"]},
                {"line_type": "chemotherapy", "treatment_start_date": "2024-04-01"},
            ],
        )
        response = self.client.get(reverse("cases:detail", args=[case.pk]))
        overview = {f.code: f for f in response.context["overview"]}
        self.assertEqual(overview["treatment"].status, "incomplete")  # a chemotherapy needs its agents
        self.assertEqual(overview["treatment"].missing, 1)
        self.assertEqual((overview["treatment"].rows, overview["treatment"].repeating), (2, True))

    def test_complete_forms_are_complete(self):
        case = self.register(
            self.padova,
            diagnosis={
                "diagnosis_date": "2024-02-10",
                "morphology": "8370/3",
                "topography": "C74.0",
                "basis_of_diagnosis": "7",
            },
            status={"patient_status": "alive", "last_contact_date": "2024-05-01"},
        )
        response = self.client.get(reverse("cases:detail", args=[case.pk]))
        found = statuses(response)
        self.assertEqual((found["diagnosis"], found["status"], found["registration"]), ("complete",) * 3)

    def test_a_refused_value_an_open_error_finding_or_an_open_query_marks_the_form_with_errors(self):
        case = self.register(self.padova, acc={"acc_weiss_score": 3}, status={"patient_status": "alive"})
        acc = FormRecord.objects.get(case=case, form__code="acc")
        FormRecord.objects.filter(pk=acc.pk).update(values={**acc.values, "acc_weiss_score": 12})  # above 9
        Finding.objects.create(case=case, rule="t", severity="error", field="treatment.line_type", values="x")
        Finding.objects.create(case=case, rule="w", severity="warning", field="consent.consent_reuse", values="x")
        Query.objects.create(
            case=case, field="status.patient_status", question="?", due="2030-01-01", raised_by=self.nc_italy
        )
        response = self.client.get(reverse("cases:detail", args=[case.pk]))
        found = statuses(response)
        self.assertEqual((found["acc"], found["treatment"], found["status"]), ("errors",) * 3)
        self.assertEqual(found["consent"], "not_started")  # a warning is not an error
        self.assertContains(response, "with errors")

    def test_a_locked_case_offers_no_form_to_edit(self):
        case = self.register(self.padova, case_status=Status.LOCKED)
        response = self.client.get(reverse("cases:detail", args=[case.pk]))
        self.assertNotContains(response, reverse("cases:edit_form", args=[case.pk, "treatment"]))


class OneFormIsEditedAlone(RegistryTestCase):
    def setUp(self):
        self.case = self.register(self.padova)
        self.sign_in(self.client, self.dm_padova)
        self.url = reverse("cases:edit_form", args=[self.case.pk, "treatment"])

    def test_the_page_holds_only_that_form(self):
        response = self.client.get(self.url)
        self.assertContains(response, 'name="treatment-__row__-line_type"')
        self.assertNotContains(response, 'name="diagnosis-morphology"')
        self.assertNotContains(response, 'name="acc-')
        self.assertEqual(response.context["seen"], [])

    def test_a_save_goes_through_save_case_with_only_that_form_and_returns_to_the_overview(self):
        other = FormRecord.objects.get(case=self.case, form__code="diagnosis")
        data = page_data(self.client.get(self.url))
        data["treatment-row"] = ["new1"]
        data |= treatment("new1", line_type="chemotherapy", treatment_start_date="2024-03-01")
        data["diagnosis-morphology"] = "8720/3"  # not on this page: never read from it
        with mock.patch("partner.cases.entry.save_case", wraps=editing.save_case) as save:
            response = self.client.post(self.url, data)
        self.assertEqual(list(save.call_args.kwargs["forms"]), ["treatment"])
        self.assertRedirects(
            response, reverse("cases:detail", args=[self.case.pk]) + "#forms-heading", fetch_redirect_response=False
        )
        lines = FormRecord.objects.filter(case=self.case, form__code="treatment")
        self.assertEqual([r.values["line_type"] for r in lines], ["chemotherapy"])
        self.assertEqual(FormRecord.objects.get(pk=other.pk).version, other.version)
        self.assertEqual(FormRecord.objects.get(pk=other.pk).values["morphology"], "8370/3")
        followed = self.client.get(response["Location"])
        self.assertContains(followed, "Saved: treatment #1.")

    def test_another_form_saved_meanwhile_is_no_conflict(self):
        data = page_data(self.client.get(self.url))
        FormRecord.objects.filter(case=self.case, form__code="diagnosis").update(version=7)
        data["treatment-row"] = ["new1"]
        data |= treatment("new1", line_type="chemotherapy", treatment_start_date="2024-03-01")
        response = self.client.post(self.url, data)
        self.assertEqual(response.status_code, 302)

    def test_a_stale_version_of_that_form_shows_the_conflict_page_and_saves_nothing(self):
        url = reverse("cases:edit_form", args=[self.case.pk, "registration"])
        mine = page_data(self.client.get(url))
        theirs = dict(mine, **{"registration-country_of_residence": "FR"})
        self.client.post(url, theirs)
        mine["registration-country_of_residence"] = "DE"
        response = self.client.post(url, mine)
        self.assertEqual(response.status_code, 409)
        self.assertEqual(response.context["action"], url)
        self.assertEqual([s.split(":")[0] for s in response.context["current"]], ["registration"])
        self.assertContains(response, f'action="{url}"', status_code=409)
        record = FormRecord.objects.get(case=self.case, form__code="registration")
        self.assertEqual((record.values.get("country_of_residence"), record.version), ("FR", 2))

    def test_a_locked_case_is_refused_as_the_whole_edit_refuses_it(self):
        TumourCase.objects.filter(pk=self.case.pk).update(status=Status.LOCKED)
        for url in (self.url, reverse("cases:edit", args=[self.case.pk])):
            response = self.client.get(url)
            self.assertRedirects(response, reverse("cases:detail", args=[self.case.pk]), fetch_redirect_response=False)
        response = self.client.post(self.url, {"treatment-row": ["new1"], "treatment-new1-line_type": "surgery"})
        self.assertRedirects(response, reverse("cases:detail", args=[self.case.pk]), fetch_redirect_response=False)
        self.assertFalse(FormRecord.objects.filter(case=self.case, form__code="treatment").exists())

    def test_another_centres_case_is_not_found(self):
        self.sign_in(self.client, self.dm_paris)
        self.assertEqual(self.client.get(self.url).status_code, 404)
        self.assertEqual(self.client.post(self.url, {"treatment-row": ["new1"]}).status_code, 404)
        self.assertFalse(FormRecord.objects.filter(case=self.case, form__code="treatment").exists())

    def test_a_form_the_case_does_not_have_is_not_found(self):
        for code in ("melanoma", "nosuchform"):
            response = self.client.get(reverse("cases:edit_form", args=[self.case.pk, code]))
            self.assertEqual(response.status_code, 404, code)

    def test_the_module_of_the_entity_is_edited_alone(self):
        url = reverse("cases:edit_form", args=[self.case.pk, "acc"])
        data = page_data(self.client.get(url))
        data["acc-acc_weiss_score"] = "4"
        response = self.client.post(url, data)
        self.assertEqual(response.status_code, 302)
        self.assertEqual(FormRecord.objects.get(case=self.case, form__code="acc").values["acc_weiss_score"], 4)


class AFailedSaveHasAnErrorSummary(RegistryTestCase):
    def setUp(self):
        self.sign_in(self.client, self.dm_padova)

    def assert_summary_links_every_error(self, response) -> list[tuple[str, str]]:
        html = response.content.decode()
        self.assertRegex(html, r"<title>Error: ")
        box = re.search(r'<div class="error-summary"([^>]*)>(.*?)</div>', html, re.S)
        self.assertIsNotNone(box)
        for attribute in ('role="alert"', 'tabindex="-1"', "data-error-summary"):
            self.assertIn(attribute, box.group(1))
        self.assertIn("There is a problem", box.group(2))
        links = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', box.group(2))
        for target, _text in links:
            self.assertIn(f'id="{target}"', html)  # the anchor reaches a field on the page
        items = re.findall(r"<li>", box.group(2))
        field_errors = sum(len(f.errors) for _t, f in response.context["page"].titled_forms() for f in [f])
        identity = response.context.get("identity")
        field_errors += len(identity.errors) if identity is not None else 0
        self.assertEqual(len(items), field_errors + len(response.context["problems"]))
        return links

    def test_a_new_case_with_a_weiss_score_of_12_lists_it_linked_to_its_field(self):
        data = {
            "identity-given_names": "Chiara",
            "identity-family_names": "Bellini",
            "identity-date_of_birth": "2011-04-03",
            "identity-sex": "female",
            "identity-country_of_birth": "IT",
            "diagnosis-diagnosis_date": "2023-05-06",
            "diagnosis-morphology": "8370/3",
            "diagnosis-topography": "C74.0",
            "acc-acc_weiss_score": "12",
        }
        response = self.client.post(reverse("cases:new"), data)
        self.assertEqual(TumourCase.objects.count(), 0)
        links = self.assert_summary_links_every_error(response)
        self.assertEqual([target for target, _t in links], ["id_acc-acc_weiss_score"])
        self.assertIn("Weiss score", links[0][1])
        self.assertIn("12 is above the maximum 9", links[0][1])

    def test_every_error_of_an_edit_is_listed_a_group_of_boxes_linked_to_its_first_and_others_unlinked(self):
        case = self.register(self.padova, case_status=Status.SUBMITTED)
        url = reverse("cases:edit", args=[case.pk])
        data = page_data(self.client.get(url))
        data["diagnosis-metastatic_at_diagnosis"] = "yes"  # then the sites are required
        data["acc-acc_weiss_score"] = "12"
        response = self.client.post(url, data)
        links = dict(self.assert_summary_links_every_error(response))
        self.assertIn("id_diagnosis-metastasis_sites_0", links)
        self.assertIn("id_diagnosis-basis_of_diagnosis", links)
        self.assertIn("id_acc-acc_weiss_score", links)

    def test_an_error_outside_the_one_form_edited_is_listed_without_a_link(self):
        case = self.register(self.padova, case_status=Status.SUBMITTED)  # its basis of diagnosis is missing
        url = reverse("cases:edit_form", args=[case.pk, "treatment"])
        data = page_data(self.client.get(url))
        data["treatment-row"] = ["new1"]
        data |= treatment("new1", line_type="chemotherapy", treatment_start_date="2024-03-01")
        response = self.client.post(url, data)
        self.assertEqual(response.context["problems"], ["diagnosis.basis_of_diagnosis: required"])
        self.assert_summary_links_every_error(response)
        self.assertContains(response, "<li>diagnosis.basis_of_diagnosis: required</li>", html=False)

    def test_a_page_without_errors_has_no_summary_and_no_error_title(self):
        response = self.client.get(reverse("cases:new"))
        self.assertNotContains(response, "data-error-summary")
        self.assertNotContains(response, "<title>Error:")

    def test_the_case_forms_are_marked_for_the_scripts_that_guard_them(self):
        case = self.register(self.padova)
        for url in (
            reverse("cases:new"),
            reverse("cases:edit", args=[case.pk]),
            reverse("cases:edit_form", args=[case.pk, "diagnosis"]),
        ):
            self.assertRegex(self.client.get(url).content.decode(), r"<form method=\"post\"[^>]*data-entry", url)
