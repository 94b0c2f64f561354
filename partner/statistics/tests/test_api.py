"""The statistics API: exact numbers for coordinators, small cells hidden from everyone else."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from lifelines import KaplanMeierFitter

from partner.accounts.models import ApiToken
from partner.analysis import survival_table
from partner.cases.frames import case_frames
from partner.cases.models import TumourCase
from partner.testing import RegistryTestCase

#: (diagnosed, dead, end date): death date for the dead, last contact for the living.
ITALY = [
    ("2015-03-01", True, "2016-05-10"),
    ("2015-09-12", False, "2023-01-15"),
    ("2016-02-20", True, "2019-07-01"),
    ("2016-11-05", False, "2022-11-30"),
    ("2017-06-18", True, "2018-02-02"),
    ("2018-01-09", False, "2024-03-03"),
    ("2019-04-22", False, "2023-10-10"),
]
FRANCE = [("2016-07-07", True, "2017-08-08"), ("2018-05-05", False, "2023-05-05")]


def status(dead: bool, end: str) -> dict[str, str]:
    if dead:
        return {"patient_status": "dead", "date_of_death": end, "cause_of_death": "tumour", "last_contact_date": end}
    return {"patient_status": "alive", "last_contact_date": end}


class StatisticsTestCase(RegistryTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        for i, (diagnosed, dead, end) in enumerate(ITALY):
            cls.register(
                cls.padova if i < 5 else cls.milano,
                given=f"C{i}",
                born="2008-05-04",
                sex="female" if i % 2 else "male",
                diagnosis={
                    "diagnosis_date": diagnosed,
                    "morphology": "8370/3",
                    "topography": "C74.0",
                    "basis_of_diagnosis": "7",
                },
                status=status(dead, end),
                case_status="submitted",
            )
        for i, (diagnosed, dead, end) in enumerate(FRANCE):
            cls.register(
                cls.paris,
                given=f"F{i}",
                born="2009-01-02",
                diagnosis={
                    "diagnosis_date": diagnosed,
                    "morphology": "8370/3",
                    "topography": "C74.0",
                    "basis_of_diagnosis": "7",
                },
                status=status(dead, end),
                case_status="submitted",
            )

    def get(self, user: Any, path: str, **params: Any) -> Any:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.issue(user, 't')[1]}"} if user else {}
        return self.client.get(f"/api/statistics/{path}", params, **headers)

    def counts(self, body: dict[str, Any]) -> dict[str, int | None]:
        return {row["group"]: row["n"] for row in body["counts"]}


class CohortTests(StatisticsTestCase):
    def test_the_european_coordinator_gets_exact_counts_per_country(self) -> None:
        body = self.get(self.european, "cohort", by="country").json()
        self.assertEqual(self.counts(body), {"FR": 2, "IT": 7})
        self.assertEqual(body["total"], 9)
        self.assertIsNone(body["suppressed_below"])
        cases = {(r["group"], r["level"]): r["value"] for r in body["table"] if r["variable"] == "country"}
        self.assertEqual(cases[("FR", "FR")], 2)

    def test_a_draft_is_not_counted_until_it_is_submitted(self) -> None:
        draft = self.register(self.paris, given="Draft")
        body = self.get(self.european, "cohort", by="country").json()
        self.assertEqual(self.counts(body), {"FR": 2, "IT": 7})
        TumourCase.objects.filter(pk=draft.pk).update(status="submitted")
        body = self.get(self.european, "cohort", by="country").json()
        self.assertEqual(self.counts(body), {"FR": 3, "IT": 7})

    def test_a_researcher_cannot_recover_a_small_country_from_the_total(self) -> None:
        body = self.get(self.researcher, "cohort", by="country").json()
        counts = self.counts(body)
        self.assertEqual(body["suppressed_below"], settings.PARTNER_MIN_CELL_COUNT)
        self.assertIsNone(counts["FR"])
        self.assertIsNone(counts["IT"])  # hidden too, or FR would be the total minus Italy
        visible = sum(n for n in counts.values() if n is not None)
        hidden = [g for g, n in counts.items() if n is None]
        self.assertTrue(len(hidden) >= 2 or body["total"] is None or body["total"] - visible != 2)

    def test_a_researcher_sees_no_small_count_in_the_descriptive_table(self) -> None:
        body = self.get(self.researcher, "cohort", by="country").json()
        threshold = settings.PARTNER_MIN_CELL_COUNT
        for row in body["table"]:
            if row["value"] is not None and row["variable"] != "age at diagnosis (years)":
                self.assertFalse(0 < row["value"] < threshold, row)
        fr = [r for r in body["table"] if r["group"] == "FR"]
        self.assertTrue(fr and all(r["value"] is None for r in fr))

    def test_a_researcher_gets_the_total_of_a_cohort_counted_by_nothing(self) -> None:
        body = self.get(self.researcher, "cohort").json()
        self.assertEqual(body["counts"], [])
        # 9 children, changed by at most 2 by its cell key, the same every time it is asked for
        self.assertLessEqual(abs(body["total"] - 9), 2)
        self.assertEqual(self.get(self.researcher, "cohort").json()["total"], body["total"])

    def test_a_researcher_gets_no_small_total_of_a_cohort_counted_by_nothing(self) -> None:
        response = self.get(self.researcher, "cohort", country=["FR"])
        self.assertEqual(response.status_code, 200)
        self.assertIsNone(response.json()["total"])
        self.assertTrue(all(row["value"] is None for row in response.json()["table"]))

    def test_a_data_manager_counts_an_empty_cohort_by_country(self) -> None:
        body = self.get(self.dm_paris, "cohort", by="country", period_end="1989-12-31").json()
        self.assertEqual((body["total"], body["counts"]), (0, []))

    def test_a_data_manager_in_paris_counts_only_the_french_cases(self) -> None:
        body = self.get(self.dm_paris, "cohort", by="country").json()
        self.assertEqual(set(self.counts(body)), {"FR"})
        self.assertEqual(body["suppressed_below"], settings.PARTNER_MIN_CELL_COUNT)

    def test_the_filters_select_the_cohort(self) -> None:
        body = self.get(self.european, "cohort", by="sex", country=["IT"], period_end="2016-12-31").json()
        self.assertEqual(body["total"], 4)
        self.assertEqual(self.counts(body)["female"], 2)

    def test_it_refuses_an_unknown_grouping(self) -> None:
        response = self.get(self.european, "cohort", by="colour")
        self.assertEqual(response.status_code, 422)
        self.assertIn("by must be one of", response.json()["detail"])

    def test_it_refuses_an_unknown_age_group(self) -> None:
        response = self.get(self.european, "cohort", age_group="20-24")
        self.assertEqual(response.status_code, 422)
        self.assertIn("20-24", response.json()["detail"])

    def test_it_refuses_anonymous_requests(self) -> None:
        self.assertEqual(self.get(None, "cohort").status_code, 401)
        self.assertEqual(self.get(None, "survival").status_code, 401)


class SurvivalTests(StatisticsTestCase):
    def test_the_curve_is_the_one_lifelines_fits(self) -> None:
        body = self.get(self.european, "survival", by="country").json()
        italy = next(g for g in body["groups"] if g["group"] == "IT")
        self.assertEqual((italy["n"], italy["events"]), (7, 3))
        table = survival_table(case_frames(self.european).cases)
        rows = table[table["country"] == "IT"]
        kmf = KaplanMeierFitter().fit(rows["duration"], rows["event"])
        last = italy["curve"][-1]
        self.assertEqual(last["time"], float(kmf.survival_function_.index[-1]))
        self.assertAlmostEqual(last["survival"], float(kmf.survival_function_.iloc[-1, 0]))
        self.assertAlmostEqual(last["lower"], float(kmf.confidence_interval_survival_function_.iloc[-1, 0]))
        self.assertEqual(italy["at_risk"][0], {"years": 0, "n": 7})
        self.assertEqual([a["years"] for a in italy["survival_at"]], [3, 5])
        self.assertIsNotNone(body["logrank"])
        self.assertIsNone(body["suppressed_below"])

    def test_a_group_too_small_is_named_without_numbers_for_a_researcher(self) -> None:
        body = self.get(self.researcher, "survival", by="country").json()
        groups = {g["group"]: g for g in body["groups"]}
        self.assertEqual(groups["FR"], {"group": "FR", "suppressed": True})
        # Italy's curve would start at 7 children; with the total of 9 from the cohort endpoint that
        # gives France away: Italy is hidden with it, as the cohort endpoint hides it.
        self.assertEqual(groups["IT"], {"group": "IT", "suppressed": True})
        cohort = self.counts(self.get(self.researcher, "cohort", by="country").json())
        self.assertIsNone(cohort["IT"])
        self.assertIsNone(body["logrank"])
        self.assertEqual(body["suppressed_below"], settings.PARTNER_MIN_CELL_COUNT)

    def test_a_coordinator_sees_small_groups(self) -> None:
        body = self.get(self.european, "survival", by="country").json()
        france = next(g for g in body["groups"] if g["group"] == "FR")
        self.assertEqual(france["n"], 2)

    def test_event_free_survival_without_follow_up_events_is_overall_survival(self) -> None:
        overall = self.get(self.european, "survival").json()
        event_free = self.get(self.european, "survival", endpoint="event_free").json()
        self.assertEqual(overall["groups"][0]["curve"], event_free["groups"][0]["curve"])
        self.assertIsNone(overall["logrank"])

    def test_it_refuses_an_unknown_endpoint(self) -> None:
        response = self.get(self.european, "survival", endpoint="relapse_free")
        self.assertEqual(response.status_code, 422)
        self.assertIn("endpoint must be one of", response.json()["detail"])


class ScopeTests(StatisticsTestCase):
    def test_a_national_coordinator_gets_exact_counts_of_their_country(self) -> None:
        body = self.get(self.nc_italy, "cohort", by="sex").json()
        self.assertEqual(body["total"], 7)
        self.assertEqual(self.counts(body), {"female": 3, "male": 4, "other": 0, "unknown": 0})
        self.assertIsNone(body["suppressed_below"])

    def test_survival_by_age_group_keeps_the_age_order(self) -> None:
        body = self.get(self.european, "survival", by="age_group").json()
        names = [g["group"] for g in body["groups"]]
        self.assertEqual(names, sorted(names, key=lambda n: int(n.split("-")[0])))


class MainStageTests(StatisticsTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        from partner.cases.models import FormRecord

        for i, record in enumerate(FormRecord.objects.filter(form__code="diagnosis").order_by("case_id")):
            record.values = {**record.values, "stage_system": "ENSAT", "stage_group": ["I", "IIA", "IIB", "III"][i % 4]}
            record.save()

    def test_survival_and_counts_group_the_stage_subgroups_under_their_main_stage(self) -> None:
        body = self.get(self.european, "cohort", by="main_stage").json()
        self.assertEqual(self.counts(body), {"I": 3, "II": 4, "III": 2, "IV": 0})
        self.assertEqual(body["total"], 9)
        survival = self.get(self.european, "survival", by="main_stage").json()
        self.assertEqual({g["group"]: g["n"] for g in survival["groups"]}, {"I": 3, "II": 4, "III": 2})
