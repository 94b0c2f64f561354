"""The cancer-registry checks, each on a few cases that pass and fail it, with the published edge cases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from partner.quality.engine import run_rules
from partner.quality.rules.base import SEVERITIES, rules_of
from partner.quality.rules.entities import ENTITY_RULES
from partner.quality.rules.oncology import ONCOLOGY_RULES
from partner.quality.testing import context_of

RULES = {r.code: r for r in ONCOLOGY_RULES}

Case = Mapping[str, Any]


def failing(
    code: str, cases: Sequence[Case], repeating: Mapping[str, Sequence[Case]] | None = None, **options: Any
) -> list[Any]:
    """The case ids (or (case id, instance) pairs for a repeating form) where rule `code` fails."""
    rule = RULES[code]
    findings = run_rules(context_of(cases, repeating, **options), [rule])
    if rule.form:
        return list(zip(findings["case_id"], findings["instance"], strict=True))
    return findings["case_id"].tolist()


def aged(years: int, **values: Any) -> dict[str, Any]:
    """A case diagnosed on the day the child turns `years`."""
    return {"date_of_birth": "2005-03-01", "diagnosis_date": f"{2005 + years}-03-01", **values}


ACC_CASE = {
    "date_of_birth": "2014-03-10",
    "sex": "female",
    "onset_date": "2018-01-15",
    "diagnosis_date": "2018-02-20",
    "morphology": "8370/3",
    "topography": "C74.0",
    "laterality": "left",
    "basis_of_diagnosis": "7",
    "grade": "9",
    "stage_system": "ENSAT",
    "metastatic_at_diagnosis": "no",
    "patient_status": "alive",
    "last_contact_date": "2025-11-03",
    "entity": "ACC",
    "acc_weiss_score": 6,
    "acc_largest_diameter_cm": 7.5,
    "acc_ensat_stage": "II",
    "acc_nodal_involvement": "absent",
}
MELANOMA_CASE = {
    "date_of_birth": "2009-07-22",
    "sex": "male",
    "onset_date": "2022-02-01",
    "diagnosis_date": "2022-05-12",
    "morphology": "8720/3",
    "topography": "C44.5",
    "basis_of_diagnosis": "7",
    "grade": "9",
    "stage_system": "AJCC8",
    "metastatic_at_diagnosis": "no",
    "patient_status": "alive",
    "last_contact_date": "2025-12-01",
    "entity": "MELANOMA",
    "mel_breslow_mm": 0.7,
    "mel_ulceration": "absent",
    "mel_ajcc_stage": "IA",
}
TYPICAL_ROWS = {
    "treatment": [
        {"case_id": 1, "instance": 1, "line_type": "surgery", "treatment_start_date": "2018-03-01"},
        {
            "case_id": 1,
            "instance": 2,
            "line_type": "chemotherapy",
            "treatment_start_date": "2018-04-02",
            "treatment_end_date": "2018-09-28",
        },
        {"case_id": 2, "instance": 1, "line_type": "surgery", "treatment_start_date": "2022-05-30"},
    ],
    "follow_up": [
        {"case_id": 1, "instance": 1, "event_type": "response_assessment", "event_date": "2018-10-15"},
        {"case_id": 1, "instance": 2, "event_type": "vital_status_update", "event_date": "2025-11-03"},
        {"case_id": 2, "instance": 1, "event_type": "vital_status_update", "event_date": "2025-12-01"},
    ],
}


def test_codes_unique_and_rules_described() -> None:
    rules = rules_of(ONCOLOGY_RULES, ENTITY_RULES)
    assert len({r.code for r in rules}) == len(rules)
    for rule in rules:
        assert rule.severity in SEVERITIES
        assert str(rule.message).strip(), rule.code
        assert rule.source.strip(), rule.code


def test_typical_cases_pass_every_rule() -> None:
    ctx = context_of([ACC_CASE, MELANOMA_CASE], TYPICAL_ROWS)
    findings = run_rules(ctx, [*ONCOLOGY_RULES, *ENTITY_RULES])
    assert findings.empty, findings.to_string()


# --- Dates --------------------------------------------------------------------------------------


def test_diagnosis_and_onset_not_before_birth() -> None:
    cases = [
        {"date_of_birth": "2010-05-04", "diagnosis_date": "2010-05-03", "onset_date": "2010-05-04"},
        {"date_of_birth": "2010-05-04", "diagnosis_date": "2010-05-04", "onset_date": "2010-05-03"},
        {"date_of_birth": "2010-05-04"},
    ]
    assert failing("DATE-BIRTH-DX", cases) == [1]
    assert failing("DATE-BIRTH-ONSET", cases) == [2]


def test_onset_not_after_diagnosis() -> None:
    cases = [
        {"onset_date": "2020-03-02", "diagnosis_date": "2020-03-01"},
        {"onset_date": "2020-03-01", "diagnosis_date": "2020-03-01"},
        {"onset_date": "2019-12-01", "diagnosis_date": "2020-03-01"},
        {"onset_date": "2020-03-02"},
    ]
    assert failing("DATE-ONSET-DX", cases) == [1]


def test_treatment_dates() -> None:
    cases = [{"diagnosis_date": "2020-03-01", "last_contact_date": "2021-01-10"}, {}]
    rows = {
        "treatment": [
            {"case_id": 1, "instance": 1, "treatment_start_date": "2020-02-29", "treatment_end_date": "2020-02-28"},
            {"case_id": 1, "instance": 2, "treatment_start_date": "2020-03-01", "treatment_end_date": "2020-03-01"},
            {"case_id": 1, "instance": 3, "treatment_start_date": "2021-01-10"},
            {"case_id": 1, "instance": 4, "treatment_start_date": "2021-01-11"},
            {"case_id": 2, "instance": 1, "treatment_start_date": "2020-01-01"},
        ]
    }
    assert failing("DATE-DX-TREAT", cases, rows) == [(1, 1)]
    assert "before diagnosis" in str(RULES["DATE-DX-TREAT"].message)
    assert failing("DATE-TREAT-END", cases, rows) == [(1, 1)]
    assert failing("DATE-TREAT-CONTACT", cases, rows) == [(1, 4)]


def test_last_contact_not_before_diagnosis() -> None:
    cases = [
        {"diagnosis_date": "2020-03-01", "last_contact_date": "2020-02-28"},
        {"diagnosis_date": "2020-03-01", "last_contact_date": "2020-03-01"},
        {"diagnosis_date": "2020-03-01"},
    ]
    assert failing("DATE-DX-CONTACT", cases) == [1]


def test_no_date_in_the_future() -> None:
    cases = [
        {"diagnosis_date": "2026-06-02"},
        {"onset_date": "2026-06-01", "diagnosis_date": "2026-06-01", "last_contact_date": "2026-06-01"},
        {"last_contact_date": "2026-07-01"},
        {"date_of_death": "2027-01-01"},
        {"onset_date": "2026-06-02"},
        {"diagnosis_date": "2020-01-01", "date_of_death": "2021-01-01"},
    ]
    assert failing("DATE-FUTURE", cases, today=dt.date(2026, 6, 1)) == [1, 3, 4, 5]


def test_death_dates() -> None:
    cases = [
        {"diagnosis_date": "2020-03-01", "date_of_death": "2020-02-28", "last_contact_date": "2020-02-28"},
        {"diagnosis_date": "2020-03-01", "date_of_death": "2020-03-01", "last_contact_date": "2020-03-02"},
        {"diagnosis_date": "2020-03-01", "date_of_death": "2021-05-01", "last_contact_date": "2021-05-01"},
        {"diagnosis_date": "2020-03-01", "last_contact_date": "2021-05-01"},
    ]
    assert failing("DATE-DEATH-DX", cases) == [1]
    assert failing("DATE-DEATH-CONTACT", cases) == [2]


def test_follow_up_events_between_diagnosis_and_death() -> None:
    cases = [{"diagnosis_date": "2020-03-01", "date_of_death": "2022-06-10"}, {"diagnosis_date": "2020-03-01"}]
    rows = {
        "follow_up": [
            {"case_id": 1, "instance": 1, "event_type": "response_assessment", "event_date": "2020-02-28"},
            {"case_id": 1, "instance": 2, "event_type": "response_assessment", "event_date": "2020-03-01"},
            {"case_id": 1, "instance": 3, "event_type": "vital_status_update", "event_date": "2022-06-10"},
            {"case_id": 1, "instance": 4, "event_type": "relapse", "event_date": "2022-06-11"},
            {"case_id": 1, "instance": 5, "event_type": "vital_status_update", "event_date": "2022-07-01"},
            {"case_id": 2, "instance": 1, "event_type": "vital_status_update", "event_date": "2030-01-01"},
        ]
    }
    assert failing("DATE-EVENT-DX", cases, rows) == [(1, 1)]
    assert failing("DATE-EVENT-DEATH", cases, rows) == [(1, 4), (1, 5)]


def test_status_and_date_of_death_agree() -> None:
    cases = [
        {"patient_status": "dead"},
        {"patient_status": "alive", "date_of_death": "2021-01-01"},
        {"patient_status": "dead", "date_of_death": "2021-01-01"},
        {"patient_status": "alive"},
        {"patient_status": "lost_to_follow_up", "date_of_death": "2021-01-01"},
        {"date_of_death": "2021-01-01"},
    ]
    assert failing("STATUS-DEATH", cases) == [1, 2, 5]


def test_age_at_diagnosis_within_the_registry_limit() -> None:
    cases = [
        {"date_of_birth": "2000-06-15", "diagnosis_date": "2018-06-14"},
        {"date_of_birth": "2000-06-15", "diagnosis_date": "2018-06-15"},
        {"date_of_birth": "2000-06-15"},
    ]
    assert failing("AGE-RANGE", cases) == [2]
    assert failing("AGE-RANGE", cases, max_age_years=18) == []


# --- Morphology and behaviour -------------------------------------------------------------------


def test_behaviour() -> None:
    cases = [{"morphology": m} for m in ("8973/1", "8370/0", "8370/3", "8140/6", "8140/9", "8500/2")] + [{}]
    assert failing("MORPH-BENIGN", cases) == [1, 2]
    assert failing("MORPH-METASTATIC", cases) == [4, 5]


def test_histologies_that_can_be_in_situ() -> None:
    codes = ("8500/2", "8720/2", "9064/2", "9085/2", "8800/2", "9510/2", "8800/3", "8010/2")
    assert failing("MORPH-INSITU-HISTOLOGY", [{"morphology": m} for m in codes]) == [5, 6]


def test_in_situ_site() -> None:
    cases = [
        {"morphology": "8070/2", "topography": "C44.3"},
        {"morphology": "8070/2", "topography": "C41.2"},
        {"morphology": "8720/2", "topography": "C71.0"},
        {"morphology": "8070/3", "topography": "C41.2"},
        {"morphology": "8500/2", "topography": "C50.4"},
        {"morphology": "8070/2"},
    ]
    assert failing("SITE-INSITU", cases) == [2, 3]


# --- Sex ----------------------------------------------------------------------------------------


def test_sex_and_site() -> None:
    cases = [
        {"sex": "male", "topography": "C56.9"},
        {"sex": "female", "topography": "C56.9"},
        {"sex": "female", "topography": "C62.9"},
        {"sex": "male", "topography": "C62.9"},
        {"sex": "unknown", "topography": "C56.9"},
        {"sex": "male", "topography": "C73.9"},
        {"sex": "male", "topography": "C51.0"},
        {"topography": "C62.9"},
    ]
    assert failing("SEX-SITE", cases) == [1, 3, 7]


def test_sex_and_histology() -> None:
    cases = [
        {"sex": "female", "morphology": "9061/3"},
        {"sex": "male", "morphology": "9061/3"},
        {"sex": "male", "morphology": "9060/3"},
        {"sex": "male", "morphology": "8930/3"},
        {"sex": "female", "morphology": "8930/3"},
        {"sex": "male", "morphology": "9090/3"},
        {"sex": "other", "morphology": "9063/3"},
    ]
    assert failing("SEX-HISTOLOGY", cases) == [1, 4, 6]


# --- Site and histology -------------------------------------------------------------------------


def test_site_histology_families() -> None:
    expected = {
        "SITE-HISTOLOGY-RB": ("9510/3", ["C69.2"], ["C71.0"]),
        "SITE-HISTOLOGY-HB": ("8970/3", ["C22.0"], ["C64.9"]),
        "SITE-HISTOLOGY-PB": ("8971/3", ["C25.0"], ["C22.0"]),
        "SITE-HISTOLOGY-PPB": ("8973/3", ["C34.1", "C38.4", "C39.9", "C48.0", "C76.1", "C80.9"], ["C38.3", "C71.0"]),
        "SITE-HISTOLOGY-ACC": ("8370/3", ["C74.0"], ["C64.9"]),
        "SITE-HISTOLOGY-THYROID": ("8340/3", ["C73.9"], ["C77.0"]),
    }
    for code, (morphology, passing, wrong) in expected.items():
        cases = [{"morphology": morphology, "topography": t} for t in [*passing, *wrong]] + [{"morphology": morphology}]
        assert failing(code, cases) == list(range(len(passing) + 1, len(passing) + len(wrong) + 1)), code


def test_carcinoma_sites() -> None:
    cases = [
        {"morphology": "8070/3", "topography": "C41.2"},
        {"morphology": "8140/3", "topography": "C77.0"},
        {"morphology": "8140/3", "topography": "C18.7"},
        {"morphology": "8800/3", "topography": "C49.2"},
        {"morphology": "8140/1", "topography": "C49.2"},
        {"morphology": "8010/2", "topography": "C71.0"},
        {"morphology": "8010/3", "topography": "C42.1"},
    ]
    assert failing("SITE-HISTOLOGY-CARCINOMA", cases) == [1, 2, 6, 7]


def test_unlikely_age_site_histology() -> None:
    cases = [
        aged(5, morphology="8260/3", topography="C73.9"),
        aged(6, morphology="8260/3", topography="C73.9"),
        aged(5, morphology="8070/3", topography="C11.9"),
        aged(4, morphology="8090/3", topography="C44.3"),
        aged(5, morphology="8090/3", topography="C44.3"),
        aged(3, morphology="8010/3", topography="C34.1"),
        aged(4, morphology="8441/3", topography="C56.9"),
        aged(14, morphology="9050/3", topography="C38.4"),
        aged(15, morphology="9050/3", topography="C38.4"),
        aged(8, morphology="8312/3", topography="C64.9"),
        aged(9, morphology="8312/3", topography="C64.9"),
        aged(8, morphology="8170/3", topography="C22.0"),
        aged(2, morphology="8370/3", topography="C74.0"),
        {"morphology": "8260/3", "topography": "C73.9"},
    ]
    assert failing("AGE-SITE-HISTOLOGY", cases) == [1, 3, 4, 6, 7, 8, 10, 12]
    assert "reason" in str(RULES["AGE-SITE-HISTOLOGY"].message)


def test_basis_of_diagnosis_and_histology() -> None:
    cases = [
        {"basis_of_diagnosis": "4", "morphology": "9510/3", "topography": "C69.2"},
        {"basis_of_diagnosis": "4", "morphology": "8720/3", "topography": "C69.4"},
        {"basis_of_diagnosis": "4", "morphology": "8370/3", "topography": "C74.0"},
        {"basis_of_diagnosis": "1", "morphology": "8720/3", "topography": "C18.7"},
        {"basis_of_diagnosis": "4", "morphology": "8170/3", "topography": "C22.0"},
        {"basis_of_diagnosis": "4", "morphology": "8170/3", "topography": "C34.1"},
        {"basis_of_diagnosis": "4", "morphology": "9100/3", "topography": "C56.9"},
        {"basis_of_diagnosis": "4", "morphology": "8970/3", "topography": "C22.0"},
        {"basis_of_diagnosis": "2", "morphology": "9500/3", "topography": "C74.1"},
        {"basis_of_diagnosis": "2", "morphology": "9440/3", "topography": "C71.0"},
        {"basis_of_diagnosis": "1", "morphology": "9591/3", "topography": "C77.0"},
        {"basis_of_diagnosis": "0", "morphology": "8000/3", "topography": "C80.9"},
        {"basis_of_diagnosis": "0", "morphology": "8973/3", "topography": "C34.1"},
        {"basis_of_diagnosis": "7", "morphology": "8370/3", "topography": "C74.0"},
        {"basis_of_diagnosis": "9", "morphology": "8370/3", "topography": "C74.0"},
        {"morphology": "8370/3", "topography": "C74.0"},
        {"basis_of_diagnosis": "1"},
    ]
    assert failing("BASIS-HISTOLOGY", cases) == [3, 4, 6, 13]


def test_grade_and_histology() -> None:
    cases = [
        {"grade": "3", "morphology": "9680/3"},
        {"grade": "9", "morphology": "9680/3"},
        {"grade": "3", "morphology": "8140/3"},
        {"grade": "1", "morphology": "9590/3"},
        {"grade": "2"},
    ]
    assert failing("GRADE-HISTOLOGY", cases) == [1, 4]


def test_grade_implied_by_the_term() -> None:
    cases = [
        {"grade": "4", "morphology": "8020/3"},
        {"grade": "1", "morphology": "8020/3"},
        {"grade": "9", "morphology": "8020/3"},
        {"morphology": "8020/3"},
        {"grade": "2", "morphology": "8332/3"},
        {"grade": "3", "morphology": "9512/3"},
        {"grade": "2", "morphology": "8140/3"},
        {"grade": "1", "morphology": "9511/3"},
    ]
    assert failing("GRADE-IMPLIED", cases) == [2, 6]
