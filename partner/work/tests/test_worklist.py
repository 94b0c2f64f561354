"""What My work lists for each role: the items, their counts over the user's scope, and their rows."""

from __future__ import annotations

from partner.consult import services as consultations
from partner.consult.models import Adherence, Consultation, ConsultationStatus
from partner.quality import queries
from partner.work.worklist import work_for

from .story import WorkStory


class DataManagerWorkTests(WorkStory):
    def test_a_padova_data_manager_counts_only_padova_cases(self) -> None:
        self.assertEqual(
            self.counts(work_for(self.dm_padova)),
            {
                "drafts": 2,  # the consultation story's case and the recent one
                "open_errors": 1,  # an open warning is not an error
                "queries": 2,
                "followup_due": 1,  # the story's case: the recent one, the one seen lately and the dead are not
                "reconsent_due": 1,  # born in 2005
                "recommendations": 0,
            },
        )

    def test_a_paris_data_manager_counts_only_paris_cases(self) -> None:
        self.assertEqual(
            self.counts(work_for(self.dm_paris)),
            {
                "drafts": 1,
                "open_errors": 0,
                "queries": 1,
                "followup_due": 2,
                "reconsent_due": 1,
                "recommendations": 0,
            },
        )


class NewQueryTests(WorkStory):
    def test_the_open_queries_are_listed_newest_first_by_case_and_field_with_a_link_to_each(self) -> None:
        item = next(i for i in work_for(self.dm_padova) if i.key == "queries")
        self.assertEqual(item.url, "/quality/queries/?status=open")
        self.assertEqual(
            [(row.label, row.url, row.new) for row in item.rows],
            [
                (f"Case {self.adult.pk} · Registration: Sex", f"/quality/queries/{self.late_query.pk}/", True),
                (
                    f"Case {self.recent.pk} · Diagnosis: Morphology (ICD-O-3)",
                    f"/quality/queries/{self.waiting_query.pk}/",
                    True,
                ),
            ],
        )
        self.assertTrue(item.rows[0].detail.startswith("overdue since"), item.rows[0].detail)

    def test_an_answered_query_leaves_the_data_managers_list_for_the_coordinators(self) -> None:
        queries.answer(self.waiting_query, "Yes, 8370/3.", self.dm_padova)
        work = {i.key: i for i in work_for(self.dm_padova)}
        self.assertEqual(work["queries"].count, 1)
        coordinator = {i.key: i for i in work_for(self.nc_italy)}
        self.assertEqual(coordinator["answered_queries"].count, 1)
        self.assertEqual(coordinator["answered_queries"].rows[0].url, f"/quality/queries/{self.waiting_query.pk}/")

    def test_a_query_the_coordinator_answers_back_is_open_again_but_no_longer_new(self) -> None:
        queries.answer(self.waiting_query, "Yes, 8370/3.", self.dm_padova)
        queries.reply(self.waiting_query, "Which report says so?", self.nc_italy)
        rows = {row.url: row for row in next(i for i in work_for(self.dm_padova) if i.key == "queries").rows}
        self.assertFalse(rows[f"/quality/queries/{self.waiting_query.pk}/"].new)


class CoordinatorWorkTests(WorkStory):
    def test_the_national_coordinator_sees_the_country_and_no_registry_wide_work(self) -> None:
        self.assertEqual(
            self.counts(work_for(self.nc_italy)),
            {
                "to_validate": 3,  # two in Padova, one in Milano; Paris's is not Italy's
                "overdue_queries": 1,
                "answered_queries": 0,
                "unassigned_consultations": 1,
            },
        )

    def test_the_european_coordinator_sees_every_country_the_linkage_queue_and_the_requests(self) -> None:
        self.assertEqual(
            self.counts(work_for(self.european)),
            {
                "to_validate": 4,
                "overdue_queries": 1,
                "answered_queries": 0,
                "unassigned_consultations": 1,
                "linkage": 1,  # the decided pair is not waiting
                "requests_to_decide": 1,
            },
        )

    def test_the_unassigned_consultation_is_listed_with_a_link(self) -> None:
        item = next(i for i in work_for(self.nc_italy) if i.key == "unassigned_consultations")
        self.assertEqual([row.url for row in item.rows], [f"/consult/{self.unassigned.pk}/"])
        self.assertEqual(item.url, "/consult/?unassigned=1")


class ExpertWorkTests(WorkStory):
    def awaiting(self, user: object) -> list[tuple[str, str]]:
        item = next(i for i in work_for(user) if i.key == "awaiting_me")
        self.assertEqual(item.count, len(item.rows))
        return [(row.url, row.detail.split(" · ")[0]) for row in item.rows]

    def test_an_assigned_expert_is_asked_for_the_draft_then_for_the_vote_then_nothing(self) -> None:
        url = f"/consult/{self.with_panel.pk}/"
        self.assertEqual(self.awaiting(self.expert), [(url, "draft the recommendation")])
        consultations.draft(self.with_panel, self.expert_fr, "Mitotane for two years.")
        self.assertEqual(self.awaiting(self.expert), [(url, "vote on version 1 of the recommendation")])
        consultations.vote(self.with_panel, self.expert, "agree")
        self.assertEqual(self.awaiting(self.expert), [])
        self.assertEqual(self.awaiting(self.expert_de), [(url, "vote on version 1 of the recommendation")])

    def test_an_expert_of_another_panel_has_nothing_waiting(self) -> None:
        self.assertEqual(self.awaiting(self.outsider), [])

    def test_an_expert_has_no_case_work(self) -> None:
        self.assertEqual([i.key for i in work_for(self.expert)], ["awaiting_me"])


class ResearcherWorkTests(WorkStory):
    def test_a_researcher_sees_their_own_requests(self) -> None:
        (item,) = work_for(self.researcher)
        self.assertEqual((item.key, item.count, item.url), ("my_requests", 1, "/requests/?mine=1"))
        self.assertEqual(item.rows[0].url, f"/requests/{self.data_request.pk}/")
        self.assertEqual(item.rows[0].detail, "submitted")


class ClinicianWorkTests(WorkStory):
    def test_a_clinician_sees_drafts_and_the_recommendations_to_follow_up(self) -> None:
        Consultation.objects.filter(pk=self.with_panel.pk).update(status=ConsultationStatus.SENT)
        work = {i.key: i for i in work_for(self.clinician)}
        self.assertEqual(list(work), ["drafts", "recommendations"])
        self.assertEqual(work["drafts"].count, 2)
        self.assertEqual([row.url for row in work["recommendations"].rows], [f"/consult/{self.with_panel.pk}/"])
        Adherence.objects.create(
            consultation=self.with_panel, followed="yes", outcome="ned", recorded_by=self.clinician
        )
        self.assertEqual(self.counts(work_for(self.clinician))["recommendations"], 0)


class NoRoleTests(WorkStory):
    def test_a_user_without_a_role_has_no_work(self) -> None:
        from django.contrib.auth import get_user_model

        nobody = get_user_model().objects.create_user("nobody", password="x")
        self.assertEqual(work_for(nobody), [])


class ReconsentTests(WorkStory):
    def test_an_adult_whose_own_consent_is_recorded_is_no_longer_due(self) -> None:
        consent = {"consent_reuse": "given", "consent_date": "2010-01-01", "consent_given_by": "parents"}
        self.register(self.padova, given="Elena", born="2004-04-04", consent={**consent, "reconsent_at_18": "obtained"})
        self.register(self.padova, given="Irene", born="2004-05-05", consent={**consent, "reconsent_at_18": "refused"})
        self.assertEqual(self.counts(work_for(self.dm_padova))["reconsent_due"], 2)  # Marco and Irene
