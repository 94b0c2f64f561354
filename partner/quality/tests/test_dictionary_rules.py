"""Rules generated from the dictionary: required, required-if, not applicable, range, allowed values, repeats."""

from partner.quality.engine import run_rules
from partner.quality.registry import registry_rules
from partner.quality.rules.dictionary import dictionary_rules
from partner.quality.testing import bundled_dictionary, context_of

COMPLETE = {
    "date_of_birth": "2010-05-04",
    "sex": "female",
    "diagnosis_date": "2020-01-10",
    "morphology": "8370/3",
    "topography": "C74.0",
    "basis_of_diagnosis": "7",
    "entity": "ACC",
    "patient_status": "alive",
    "last_contact_date": "2021-01-10",
    "consent_reuse": "given",
    "consent_date": "2020-01-12",
}


def found(cases, repeating=None, **kwargs):
    ctx = context_of(cases, repeating, **kwargs)
    return run_rules(ctx, dictionary_rules(ctx.dictionary))


def test_every_field_of_the_dictionary_has_its_rules_and_no_field_is_named_in_code():
    d = bundled_dictionary()
    codes = {r.code for r in dictionary_rules(d)}
    for form in d.forms:
        for f in form.fields:
            if f.required and not f.computed:
                assert f"REQUIRED:{form.code}.{f.code}" in codes
            if f.min is not None or f.max is not None:
                assert f"RANGE:{form.code}.{f.code}" in codes
    assert len({r.code for r in registry_rules(d)}) == len(registry_rules(d))


def test_a_complete_case_passes():
    assert found([COMPLETE]).empty


def test_a_missing_required_field_is_an_error_past_the_draft_only():
    result = found([COMPLETE | {"last_contact_date": None}, COMPLETE | {"last_contact_date": None, "status": "draft"}])
    assert result[["rule", "case_id"]].values.tolist() == [["REQUIRED:status.last_contact_date", 1]]
    assert result["severity"].tolist() == ["error"]


def test_required_if_holds_only_where_its_condition_does():
    dead = COMPLETE | {"patient_status": "dead", "cause_of_death": "tumour"}
    result = found([dead, COMPLETE])
    assert result[["rule", "case_id"]].values.tolist() == [["REQUIRED-IF:status.date_of_death", 1]]
    assert "patient_status=dead" in result["values"][0]


def test_a_module_field_is_required_only_for_its_entity():
    melanoma = COMPLETE | {"entity": "MELANOMA", "morphology": "8720/3", "topography": "C44.5"}
    result = found([melanoma, COMPLETE])
    assert "REQUIRED:melanoma.mel_subtype" in result[result.case_id == 1]["rule"].tolist()
    assert result[result.case_id == 2].empty


def test_a_value_where_it_does_not_apply_is_a_warning():
    result = found([COMPLETE | {"in_clinical_trial": False, "trial_identifier": "EU-123"}])
    assert result[["rule", "severity"]].values.tolist() == [["NOT-APPLICABLE:registration.trial_identifier", "warning"]]


def test_a_value_outside_its_range_is_an_error_and_the_bounds_pass():
    result = found(
        [COMPLETE | {"acc_weiss_score": 12}, COMPLETE | {"acc_weiss_score": 9}, COMPLETE | {"acc_weiss_score": 0}]
    )
    assert result[["rule", "case_id"]].values.tolist() == [["RANGE:acc.acc_weiss_score", 1]]


def test_a_choice_the_dictionary_does_not_allow_is_an_error():
    result = found([COMPLETE | {"laterality": "sideways"}, COMPLETE | {"laterality": "left"}])
    assert result[["rule", "case_id"]].values.tolist() == [["ALLOWED:diagnosis.laterality", 1]]
    assert result["values"][0] == "laterality="  # typed out of the column; the raw value is in frames.invalid


def test_two_rows_of_a_repeating_form_saying_the_same_are_a_warning():
    rows = [
        {
            "case_id": 1,
            "instance": 1,
            "line_type": "chemotherapy",
            "treatment_start_date": "2020-02-01",
            "chemo_agents": ["cisplatin"],
        },
        {
            "case_id": 1,
            "instance": 2,
            "line_type": "chemotherapy",
            "treatment_start_date": "2020-02-01",
            "chemo_agents": ["cisplatin"],
        },
        {
            "case_id": 2,
            "instance": 1,
            "line_type": "chemotherapy",
            "treatment_start_date": "2020-02-01",
            "chemo_agents": ["cisplatin"],
        },
        {
            "case_id": 2,
            "instance": 2,
            "line_type": "surgery",
            "treatment_start_date": "2020-02-01",
            "surgery_type": "biopsy_open",
        },
    ]
    result = found([COMPLETE, COMPLETE], {"treatment": rows})
    repeated = result[result.rule == "REPEATED:treatment"]
    assert repeated[["case_id", "instance"]].values.tolist() == [[1, 1], [1, 2]]


def test_a_required_field_of_a_repeating_row_is_checked_row_by_row():
    rows = [
        {"case_id": 1, "instance": 1, "line_type": "chemotherapy", "treatment_start_date": "2020-02-01"},
        {
            "case_id": 1,
            "instance": 2,
            "line_type": "radiotherapy",
            "treatment_start_date": "2020-03-01",
            "rt_technique": "protons",
        },
    ]
    result = found([COMPLETE], {"treatment": rows})
    assert result[["rule", "instance"]].values.tolist() == [["REQUIRED-IF:treatment.chemo_agents", 1]]
