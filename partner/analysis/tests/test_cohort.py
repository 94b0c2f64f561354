"""Cohort selection and the survival table, on small frames shaped like `partner.cases.frames`."""

import pandas as pd
import pytest

from partner.analysis import AGE_GROUPS, Cohort, age_at_diagnosis, age_group, one_per_child, survival_table

DATES = ("date_of_birth", "diagnosis_date", "date_of_death", "last_contact_date")


def case(case_id: int, **values) -> dict:
    row = {
        "case_id": case_id,
        "child_id": case_id,
        "country": "IT",
        "entity": "ACC",
        "sex": "female",
        "stage_group": "II",
        "date_of_birth": "2010-01-01",
        "diagnosis_date": "2018-01-01",
        "patient_status": "alive",
        "date_of_death": None,
        "last_contact_date": "2020-01-01",
    }
    return row | values


def frame(*rows: dict) -> pd.DataFrame:
    cases = pd.DataFrame(list(rows))
    for column in DATES:
        cases[column] = pd.to_datetime(cases[column])
    cases["sex"] = cases["sex"].astype(pd.CategoricalDtype(["female", "male", "other", "unknown"]))
    return cases.astype({"case_id": "Int64", "child_id": "Int64", "patient_status": "category"})


def follow_up(*events: tuple[int, str, str]) -> pd.DataFrame:
    rows = pd.DataFrame(events, columns=["case_id", "event_type", "event_date"])
    kinds = pd.CategoricalDtype(["response_assessment", "relapse", "progression", "second_tumour", "late_effect"])
    rows = rows.astype({"case_id": "Int64", "event_type": kinds})
    return rows.assign(event_date=pd.to_datetime(rows["event_date"]))


def test_a_death_after_diagnosis_is_an_event_at_the_right_day():
    table = survival_table(frame(case(1, patient_status="dead", date_of_death="2019-01-01", last_contact_date=None)))
    assert table[["case_id", "duration", "event"]].values.tolist() == [[1, 365, 1]]


def test_a_living_child_is_censored_at_last_contact():
    table = survival_table(frame(case(1)))
    assert table[["duration", "event"]].values.tolist() == [[730, 0]]


def test_age_at_diagnosis_is_in_years():
    table = survival_table(frame(case(1, date_of_birth="2010-01-01", diagnosis_date="2016-01-01")))
    assert table.loc[0, "age"] == pytest.approx(6.0, abs=0.01)
    assert table.loc[0, "age_group"] == "5-9"


def test_a_child_with_two_cases_counts_once_by_the_first_diagnosis():
    cases = frame(
        case(1, child_id=7, diagnosis_date="2019-05-01"),
        case(2, child_id=7, diagnosis_date="2017-05-01"),
        case(3, child_id=8),
    )
    table = survival_table(cases)
    assert table["case_id"].tolist() == [2, 3]
    assert table.attrs["later_cases"] == 1
    assert one_per_child(cases)[1] == 1


def test_cases_with_missing_or_inconsistent_dates_are_dropped_and_counted():
    cases = frame(
        case(1),
        case(2, diagnosis_date=None),
        case(3, patient_status="dead", date_of_death=None),
        case(4, last_contact_date="2017-06-01"),  # before diagnosis
        case(5, date_of_birth="2019-01-01"),  # diagnosed before birth
        case(6, last_contact_date=None),
        case(7, patient_status="alive", date_of_death="2019-01-01"),
    )
    table = survival_table(cases)
    assert table["case_id"].tolist() == [1]
    assert table.attrs["excluded"] == 6
    assert table.attrs["exclusions"] == {
        "no diagnosis date": 1,
        "diagnosis before birth": 1,
        "dead without a date of death": 1,
        "date of death but not dead": 1,
        "no last contact date": 1,
        "end before diagnosis": 1,
    }


def test_event_free_survival_ends_at_the_first_relapse():
    events = follow_up(
        (1, "progression", "2019-06-01"),
        (1, "relapse", "2018-07-01"),
        (1, "late_effect", "2018-02-01"),
        (2, "second_tumour", "2018-03-01"),
    )
    table = survival_table(frame(case(1), case(2)), events, endpoint="event_free")
    assert table[["case_id", "duration", "event"]].values.tolist() == [[1, 181, 1], [2, 730, 0]]


def test_event_free_survival_ends_at_death_without_a_relapse_before_it():
    events = follow_up((1, "late_effect", "2018-02-01"))
    dead = case(1, patient_status="dead", date_of_death="2018-03-02", last_contact_date="2018-03-01")
    table = survival_table(frame(dead), events, endpoint="event_free")
    assert table[["duration", "event"]].values.tolist() == [[60, 1]]


def test_a_relapse_after_death_is_inconsistent():
    events = follow_up((1, "relapse", "2019-06-01"))
    dead = case(1, patient_status="dead", date_of_death="2019-01-01", last_contact_date=None)
    table = survival_table(frame(dead), events, endpoint="event_free")
    assert table.empty
    assert table.attrs["exclusions"] == {"event after death": 1}


def test_a_last_contact_after_death_is_inconsistent():
    dead = case(1, patient_status="dead", date_of_death="2019-01-01", last_contact_date="2019-02-01")
    assert survival_table(frame(dead)).attrs["exclusions"] == {"last contact after death": 1}


def test_overall_survival_ignores_relapses():
    events = follow_up((1, "relapse", "2018-07-01"))
    table = survival_table(frame(case(1)), events)
    assert table[["duration", "event"]].values.tolist() == [[730, 0]]


def test_an_unknown_endpoint_is_refused():
    with pytest.raises(ValueError, match="endpoint"):
        survival_table(frame(case(1)), endpoint="disease_specific")


def test_age_groups_are_half_open_intervals_in_years():
    ages = pd.Series([0.0, 4.99, 5.0, 14.5, 19.9, 20.0, None])
    assert age_group(ages).astype("object").where(lambda s: s.notna(), None).tolist() == [
        "0-4",
        "0-4",
        "5-9",
        "10-14",
        "15-19",
        None,
        None,
    ]
    assert list(age_group(ages).cat.categories) == list(AGE_GROUPS)


def test_age_falls_back_to_the_recorded_age_at_diagnosis():
    cases = frame(case(1, date_of_birth=None)).assign(age_at_diagnosis=[12.5])
    assert age_at_diagnosis(cases).tolist() == [12.5]


COHORT = frame(
    case(1, entity="ACC", country="IT", sex="female", stage_group="II", date_of_birth="2016-01-01"),
    case(2, entity="ACC", country="FR", sex="male", stage_group="IV", date_of_birth="2003-01-01"),
    case(3, entity="NPC", country="IT", sex="male", stage_group="III", diagnosis_date="2022-03-01"),
    case(4, entity="ACC", country="PL", sex="female", stage_group=None, diagnosis_date=None),
)


def selected(cohort: Cohort, treatment: pd.DataFrame | None = None) -> list[int]:
    return cohort.select(COHORT, treatment=treatment)["case_id"].tolist()


def test_an_empty_cohort_selects_every_case():
    assert selected(Cohort()) == [1, 2, 3, 4]


def test_the_cohort_filters_by_entity_country_sex_and_stage():
    assert selected(Cohort(entity="ACC")) == [1, 2, 4]
    assert selected(Cohort(entity=["ACC", "NPC"], countries=["IT"])) == [1, 3]
    assert selected(Cohort(sexes=["male"])) == [2, 3]
    assert selected(Cohort(stages=["II", "III"])) == [1, 3]


def test_the_cohort_filters_by_diagnosis_period_inclusively():
    assert selected(Cohort(period=("2018-01-01", "2018-12-31"))) == [1, 2]
    assert selected(Cohort(period=("2020-01-01", None))) == [3]
    assert selected(Cohort(period=(None, "2018-01-01"))) == [1, 2]


def test_the_cohort_filters_by_age_group_and_custom_bounds():
    # diagnosed on 2018-01-01: case 1 aged 2, case 2 aged 15, case 3 aged 12; case 4 has no date
    assert selected(Cohort(age_groups=["0-4"])) == [1]
    assert selected(Cohort(age_groups=["0-4", "15-19"])) == [1, 2]
    assert selected(Cohort(age_groups=[(10, 18)])) == [2, 3]
    with pytest.raises(ValueError, match="age group"):
        selected(Cohort(age_groups=["0-3"]))


def test_the_cohort_keeps_cases_with_any_line_of_the_treatments():
    treatment = pd.DataFrame(
        {
            "case_id": [1, 1, 2, 3],
            "instance": [1, 2, 1, 1],
            "line_type": ["surgery", "chemotherapy", "surgery", "radiotherapy"],
        }
    )
    assert selected(Cohort(treatments=["chemotherapy", "radiotherapy"]), treatment) == [1, 3]
    with pytest.raises(ValueError, match="treatment frame"):
        selected(Cohort(treatments=["surgery"]))


def test_main_stage_merges_subgroups_and_leaves_other_systems_out():
    from partner.analysis import main_stage

    stages = pd.Series(["IIIB", "IVA", "I", "Ir", "II", "IV", "PRETEXT 2", "", None, "IIa"])
    result = main_stage(stages)
    assert result.tolist()[:6] == ["III", "IV", "I", "I", "II", "IV"]
    assert result.iloc[6:9].isna().all()
    assert result.iloc[9] == "II"
    assert list(result.cat.categories) == ["I", "II", "III", "IV"] and result.cat.ordered


def test_treatment_pattern_orders_the_types_and_names_the_untreated():
    from partner.analysis import treatment_pattern

    cases = pd.DataFrame({"case_id": pd.array([7, 8, 9], dtype="Int64")}, index=[10, 11, 12])
    lines = pd.DataFrame({"case_id": [7, 7, 7, 8], "line_type": ["radiotherapy", "surgery", "surgery", "chemotherapy"]})
    patterns = treatment_pattern(cases, lines, ["surgery", "chemotherapy", "radiotherapy"], none="nothing")
    assert patterns.to_dict() == {10: "surgery + radiotherapy", 11: "chemotherapy", 12: "nothing"}
    assert treatment_pattern(cases, lines.iloc[0:0], ["surgery"]).tolist() == ["none"] * 3
