"""The descriptive table, on a small frame shaped like `partner.cases.frames`."""

import pandas as pd
import pytest

from partner.analysis import describe

SEX = pd.CategoricalDtype(["female", "male", "other", "unknown"])


@pytest.fixture
def cases() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case_id": [1, 2, 3, 4],
            "country": ["IT", "IT", "FR", "PL"],
            "sex": pd.Series(["female", "male", "female", None], dtype=SEX),
            "date_of_birth": pd.to_datetime(["2016-01-01", "2008-01-01", "2002-01-01", None]),
            "diagnosis_date": pd.to_datetime(["2020-01-01"] * 4),
            "stage_group": pd.Series(["II", "IV", None, "II"], dtype="string"),
            "metastatic_at_diagnosis": pd.Series(["no", "yes", "no", "no"], dtype="category"),
        }
    )


def test_it_counts_each_level_with_its_percentage(cases):
    table = describe(cases)["all"]
    assert table.loc[("cases", "n"), "value"] == 4
    assert table.loc[("sex", "female"), ["value", "percent"]].tolist() == [2, 50.0]
    assert table.loc[("country", "IT"), "percent"] == 50.0
    assert table.loc[("metastatic_at_diagnosis", "yes"), "value"] == 1


def test_every_level_of_a_choice_is_shown_even_when_empty(cases):
    table = describe(cases)["all"]
    assert table.loc[("sex", "other"), "value"] == 0


def test_missing_values_are_a_level_so_percentages_add_up(cases):
    table = describe(cases)["all"]
    assert table.loc[("sex", "missing"), "value"] == 1
    assert table.loc[("stage_group", "missing"), "value"] == 1
    assert table.loc["sex", "percent"].sum() == pytest.approx(100.0)


def test_age_groups_and_age_median_and_quartiles(cases):
    # ages 4, 12 and 18 at diagnosis; the fourth child has no date of birth
    table = describe(cases)["all"]
    assert table.loc[("age_group", "0-4"), "value"] == 1
    assert table.loc[("age_group", "10-14"), "value"] == 1
    assert table.loc[("age_group", "15-19"), "value"] == 1
    assert table.loc[("age_group", "missing"), "value"] == 1
    age = table.loc["age at diagnosis (years)", "value"]
    assert age["median"] == pytest.approx(12.0, abs=0.01)
    assert age["q1"] == pytest.approx(8.0, abs=0.01)
    assert age["q3"] == pytest.approx(15.0, abs=0.01)
    assert age["missing"] == 1


def test_grouped_by_a_column_each_group_has_its_own_counts(cases):
    table = describe(cases, by="country")
    assert list(table.columns.get_level_values(0).unique()) == ["all", "FR", "IT", "PL"]
    assert table.loc[("cases", "n"), ("IT", "value")] == 2
    assert table.loc[("sex", "male"), ("IT", "percent")] == 50.0
    assert table.loc[("sex", "male"), ("FR", "value")] == 0


def test_it_can_group_by_age_group(cases):
    table = describe(cases, by="age_group")
    assert table.loc[("cases", "n"), ("15-19", "value")] == 1
    assert table.loc[("cases", "n"), ("missing", "value")] == 1


def test_variables_absent_from_the_frame_are_left_out():
    table = describe(pd.DataFrame({"sex": pd.Series(["male"], dtype=SEX)}))
    assert set(table.index.get_level_values(0)) == {"cases", "sex", "age_group", "age at diagnosis (years)"}
