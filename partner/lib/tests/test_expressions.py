import pytest

from partner.lib.expressions import Condition, ExpressionError


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "stage.__class__",
        "(lambda: 1)()",
        "open('x')",
        "stage == 'III' if True else False",
        "[x for x in stage]",
        "stage + 1 > 2",
        "{'a': 1}",
    ],
)
def test_it_refuses_anything_but_comparisons_of_fields_and_constants(text):
    with pytest.raises(ExpressionError):
        Condition.parse(text)


def test_it_reports_a_syntax_error_with_the_text():
    with pytest.raises(ExpressionError, match="stage =="):
        Condition.parse("stage ==")


def test_it_evaluates_comparisons_membership_and_boolean_operators():
    c = Condition.parse("line_type == 'surgery' and (margin in ['R1', 'R2'] or not spill)")
    assert c.evaluate({"line_type": "surgery", "margin": "R1", "spill": True})
    assert c.evaluate({"line_type": "surgery", "margin": "R0", "spill": False})
    assert not c.evaluate({"line_type": "surgery", "margin": "R0", "spill": True})
    assert not c.evaluate({"line_type": "chemotherapy", "margin": "R1"})


def test_a_missing_value_makes_a_comparison_false():
    assert not Condition.parse("weight > 100").evaluate({})
    assert not Condition.parse("weight < 100").evaluate({"weight": None})


def test_it_tests_membership_in_a_multichoice_value():
    c = Condition.parse("'cortisol' in secretion")
    assert c.evaluate({"secretion": ["androgens", "cortisol"]})
    assert not c.evaluate({"secretion": ["androgens"]})


def test_it_reads_fields_of_other_forms_by_dotted_name():
    c = Condition.parse("status.patient_status == 'dead' and age > 2")
    assert c.names == {"status.patient_status", "age"}
    assert c.evaluate({"status.patient_status": "dead", "age": 5})


def test_it_writes_redcap_branching_logic():
    c = Condition.parse("stage_system in ['TNM8', 'AJCC8'] and weight >= 100")
    assert c.to_redcap() == "(([stage_system] = 'TNM8' or [stage_system] = 'AJCC8') and [weight] >= 100)"
    assert Condition.parse("sex != 'male'").to_redcap() == "[sex] <> 'male'"


def test_a_mask_agrees_with_evaluate_row_by_row():
    import pandas as pd

    rows = [
        {"stage_system": "ENSAT", "weight": 120.0, "done": True, "kind": "a"},
        {"stage_system": "ENSAT", "weight": 80.0, "done": False, "kind": "b"},
        {"stage_system": None, "weight": None, "done": None, "kind": None},
        {"stage_system": "TNM8", "weight": 300.0, "done": True, "kind": "c"},
    ]
    frame = pd.DataFrame(rows).astype(
        {"stage_system": "category", "weight": "Float64", "done": "boolean", "kind": "string"}
    )
    for text in [
        "stage_system == 'ENSAT' and weight > 100",
        "stage_system != 'ENSAT'",
        "not (stage_system == 'ENSAT')",
        "stage_system in ['ENSAT', 'TNM8'] or done == True",
        "kind not in ['a', 'b']",
        "weight >= 80 and weight <= 120",
        "done == False or diagnosis.kind == 'c'",
    ]:
        condition = Condition.parse(text)
        mask = condition.mask(lambda name: frame[name.split(".")[-1]])
        expected = [
            condition.evaluate({**{k: v for k, v in row.items()}, "diagnosis.kind": row["kind"]}) for row in rows
        ]
        assert mask.tolist() == expected, text
