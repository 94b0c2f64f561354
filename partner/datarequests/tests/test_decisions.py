"""What a request must be, and how it moves: submitted, then approved, rejected (with a reason) or withdrawn, once."""

import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from partner.accounts.models import ApiToken, Membership, Role
from partner.datarequests import services
from partner.datarequests.models import DataRequest, RequestStatus
from partner.interop.models import ExportLog

from .story import DataRequestTestCase


class CheckingTests(DataRequestTestCase):
    def errors(self, **kwargs):
        with self.assertRaises(ValidationError) as caught:
            self.submit(**kwargs)
        self.assertFalse(DataRequest.objects.exists())
        return caught.exception.message_dict

    def test_an_unknown_variable_is_refused_with_a_message_naming_it(self):
        errors = self.errors(variables=["diagnosis.morphology", "diagnosis.colour", "surgery.margin", "morphology"])[
            "variables"
        ]
        self.assertEqual(len(errors), 3)
        self.assertIn("diagnosis.colour", errors[0])
        self.assertIn("has no field colour", errors[0])
        self.assertIn("surgery.margin", errors[1])
        self.assertIn("has no form surgery", errors[1])
        self.assertIn("“morphology” is not a variable", errors[2])

    def test_the_registrys_pseudonym_cannot_be_requested(self):
        errors = self.errors(variables=["registration.pseudonym"])["variables"]
        self.assertIn("registration.pseudonym", errors[0])
        self.assertIn("never leaves the registry", errors[0])

    def test_a_request_names_at_least_one_variable(self):
        self.assertEqual(self.errors(variables=[])["variables"], ["Choose at least one variable."])

    def test_variables_are_kept_once_in_the_dictionarys_order(self):
        item = self.submit(variables=["treatment.line_type", "registration.sex", "treatment.line_type"])
        self.assertEqual(item.variables, ["registration.sex", "treatment.line_type"])
        self.assertEqual(item.dictionary_version, self.dictionary.number)

    def test_each_cohort_filter_is_checked_and_named(self):
        errors = self.errors(
            entities=["ACC", "WILMS"],
            countries=["it", "ZZ"],
            age_groups=["0-4", "20-24"],
            sexes=["girl"],
            period_start="2024-01-01",
            period_end="2023-01-01",
            colour=["red"],
        )
        self.assertIn("WILMS", errors["cohort.entities"][0])
        self.assertIn("ZZ", errors["cohort.countries"][0])
        self.assertEqual(len(errors["cohort.countries"]), 1)  # "it" is Italy
        self.assertIn("20-24", errors["cohort.age_groups"][0])
        self.assertIn("girl", errors["cohort.sexes"][0])
        self.assertIn("before its start", errors["cohort.period_end"][0])
        self.assertIn("colour", errors["cohort"][0])
        self.assertIn("“2024-13-01” is not a date", self.errors(period_start="2024-13-01")["cohort.period_start"][0])

    def test_the_cohort_is_stored_whole_with_empty_filters(self):
        item = self.submit(countries=["it"], period_start="2020-01-01", stages=[" II ", "II", ""])
        self.assertEqual(
            item.cohort,
            {
                "entities": [],
                "countries": ["IT"],
                "age_groups": [],
                "sexes": [],
                "stages": ["II"],
                "period_start": "2020-01-01",
                "period_end": None,
            },
        )

    def test_only_a_researcher_submits(self):
        for user in (self.european, self.nc_italy, self.dm_padova, self.expert):
            with self.subTest(user=user.username), self.assertRaises(PermissionDenied):
                self.submit(user=user)
        self.assertFalse(DataRequest.objects.exists())

    def test_the_new_request_page_shows_each_problem_beside_its_field_and_keeps_the_choices(self):
        self.sign_in(self.client, self.researcher)
        response = self.client.post(
            reverse("datarequests:new"),
            {
                "title": "T",
                "purpose": "P",
                "variables": ["treatment.line_type", "diagnosis.nothing"],
                "period_start": "2024-01-01",
                "period_end": "2020-01-01",
            },
        )
        self.assertEqual(response.status_code, 200)
        self.assertFalse(DataRequest.objects.exists())
        self.assertIn("diagnosis.nothing", response.context["form"].errors["variables"][0])
        self.assertIn("before its start", response.context["form"].errors["period_end"][0])
        self.assertContains(response, 'value="treatment.line_type" id="variable-treatment.line_type" checked')
        self.assertContains(response, 'role="alert"')


class DecisionTests(DataRequestTestCase):
    def test_rejecting_needs_a_reason_and_keeps_it_for_the_researcher(self):
        item = self.submit()
        for note in ("", "   "):
            with self.assertRaises(ValidationError) as caught:
                services.decide(item, user=self.european, decision="rejected", note=note)
            self.assertIn("reason", caught.exception.message_dict["note"][0])
        item.refresh_from_db()
        self.assertEqual((item.status, item.decided_by), (RequestStatus.SUBMITTED, None))
        services.decide(item, user=self.european, decision="rejected", note="The consent does not cover it.")
        item.refresh_from_db()
        self.assertEqual(item.status, RequestStatus.REJECTED)
        self.assertEqual(item.decision_note, "The consent does not cover it.")

    def test_rejecting_without_a_note_on_the_page_shows_the_error_and_decides_nothing(self):
        item = self.submit()
        self.sign_in(self.client, self.european)
        response = self.client.post(reverse("datarequests:decide", args=[item.pk]), {"decision": "rejected"})
        self.assertEqual(response.status_code, 200)
        self.assertIn("reason", response.context["decision_form"].errors["note"][0])
        item.refresh_from_db()
        self.assertEqual(item.status, RequestStatus.SUBMITTED)

    def test_a_second_decision_is_refused_clearly(self):
        item = self.approved()
        for decision, note in (("rejected", "Changed my mind."), ("approved", "")):
            with self.subTest(decision=decision), self.assertRaises(services.NotNow) as caught:
                services.decide(item, user=self.european, decision=decision, note=note)
            self.assertIn(f"Request #{item.pk} is already approved by ec.europe", str(caught.exception))
        item.refresh_from_db()
        self.assertEqual((item.status, item.decision_note), (RequestStatus.APPROVED, "Fine."))
        self.assertEqual(item.history.count(), 2)

    def test_a_second_decision_is_refused_on_the_page_and_in_the_api(self):
        item = self.approved()
        self.sign_in(self.client, self.european)
        response = self.client.post(
            reverse("datarequests:decide", args=[item.pk]), {"decision": "rejected", "note": "No."}, follow=True
        )
        self.assertContains(response, "only a submitted request can be decided")
        key = ApiToken.issue(self.european, "test")[1]
        response = self.client.post(
            f"/api/requests/{item.pk}/decision",
            json.dumps({"decision": "rejected", "note": "No."}),
            content_type="application/json",
            headers={"authorization": f"Bearer {key}"},
        )
        self.assertEqual(response.status_code, 409)
        self.assertIn("already approved", response.json()["detail"])
        item.refresh_from_db()
        self.assertEqual(item.status, RequestStatus.APPROVED)

    def test_only_the_european_coordinator_decides_and_never_on_their_own_request(self):
        item = self.submit()
        for user in (self.researcher, self.nc_italy, self.other_researcher):
            with self.subTest(user=user.username), self.assertRaises(PermissionDenied):
                services.decide(item, user=user, decision="approved")
        both = self._user("ec.researcher", Role.EUROPEAN_COORDINATOR)
        Membership.objects.create(user=both, role=Role.RESEARCHER)
        own = self.submit(user=both)
        with self.assertRaises(PermissionDenied):
            services.decide(own, user=both, decision="approved")
        services.decide(own, user=self.european, decision="approved")
        item.refresh_from_db()
        self.assertEqual(item.status, RequestStatus.SUBMITTED)

    def test_an_unknown_decision_is_refused(self):
        with self.assertRaises(ValidationError):
            services.decide(self.submit(), user=self.european, decision="maybe")


class WithdrawalTests(DataRequestTestCase):
    def test_a_researcher_withdraws_their_own_submitted_request_and_it_can_no_longer_be_decided(self):
        item = self.submit()
        self.sign_in(self.client, self.researcher)
        response = self.client.post(reverse("datarequests:withdraw", args=[item.pk]))
        self.assertRedirects(response, reverse("datarequests:detail", args=[item.pk]))
        item.refresh_from_db()
        self.assertEqual(item.status, RequestStatus.WITHDRAWN)
        with self.assertRaises(services.NotNow):
            services.decide(item, user=self.european, decision="approved")
        with self.assertRaises(services.NotNow):
            services.withdraw(item, user=self.researcher)

    def test_a_decided_request_cannot_be_withdrawn_and_nobody_else_withdraws(self):
        item = self.submit()
        with self.assertRaises(PermissionDenied):
            services.withdraw(item, user=self.european)
        services.decide(item, user=self.european, decision="approved")
        with self.assertRaises(services.NotNow) as caught:
            services.withdraw(item, user=self.researcher)
        self.assertIn("only a submitted request can be withdrawn", str(caught.exception))
        item.refresh_from_db()
        self.assertEqual(item.status, RequestStatus.APPROVED)


class DownloadRuleTests(DataRequestTestCase):
    def test_only_an_approved_request_has_an_extract(self):
        submitted = self.submit()
        rejected = self.submit()
        services.decide(rejected, user=self.european, decision="rejected", note="No.")
        for item in (submitted, rejected):
            with self.subTest(status=item.status), self.assertRaises(services.NotNow):
                services.download(item, user=self.researcher)
        self.sign_in(self.client, self.researcher)
        response = self.client.get(reverse("datarequests:extract", args=[submitted.pk]), follow=True)
        self.assertContains(response, "only an approved request has an extract")
        self.assertFalse(ExportLog.objects.exists())

    def test_only_its_requester_downloads_an_approved_request_not_even_the_coordinator(self):
        item = self.approved()
        with self.assertRaises(PermissionDenied):
            services.download(item, user=self.european)
        with self.assertRaises(PermissionDenied):
            services.download(item, user=self.other_researcher)
        self.sign_in(self.client, self.european)
        page = self.client.get(reverse("datarequests:detail", args=[item.pk]))
        self.assertNotContains(page, reverse("datarequests:extract", args=[item.pk]))
        self.assertEqual(self.client.get(reverse("datarequests:extract", args=[item.pk])).status_code, 403)
        item.refresh_from_db()
        self.assertEqual(item.download_count, 0)
        self.assertFalse(ExportLog.objects.exists())

    def test_a_researcher_who_lost_the_role_no_longer_sees_or_downloads_the_request(self):
        item = self.approved()
        Membership.objects.filter(user=self.researcher).update(role=Role.EXPERT)
        self.sign_in(self.client, self.researcher)
        self.assertEqual(self.client.get(reverse("datarequests:extract", args=[item.pk])).status_code, 404)
        with self.assertRaises(PermissionDenied):
            services.download(item, user=self.researcher)
