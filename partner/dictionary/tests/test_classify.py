"""The registry's classifier: ICCC-3, VRT entity, age range and reasons, without a database.

The entities here are made for the tests, so that the matching mechanism is tested apart from the
content of entities.yaml.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from partner.dictionary import schema
from partner.dictionary.classify import PAEDIATRIC_MAX_AGE, Classification, Classifier
from partner.lib.icdo import CodeError

DEFINITIONS = Path(__file__).resolve().parents[1] / "definitions" / "v1"


def labels(text: str) -> schema.Labels:
    return schema.Labels(en=text, it=text, fr=text, de=text, pl=text)


def entity(
    code: str,
    name: str,
    extended: str,
    *rules: schema.MatchRule,
    vrt: bool = True,
    scope: bool = True,
) -> schema.Entity:
    return schema.Entity(
        code=code,
        names=labels(name),
        iccc_extended=extended,
        incidence_vrt=vrt,
        expert_scope=scope,
        panel="test_panel",
        match=list(rules),
    )


Rule = schema.MatchRule

ACC = entity("ACC", "Adrenocortical carcinoma", "093", Rule(morphology="8370-8375"))
HEPATOBLASTOMA = entity("HB", "Hepatoblastoma", "041", Rule(iccc_extended=["041"]), scope=False)
WILMS = entity("WILMS", "Nephroblastoma", "036", Rule(morphology="8959-8960"), vrt=False, scope=False)
MELANOMA = entity("MELANOMA", "Melanoma", "096", Rule(iccc_extended=["096"]), vrt=False)
NPC = entity("NPC", "Nasopharyngeal carcinoma", "095", Rule(morphology="8010-8576", topography="C11"))
THYROID = entity("THYROID_CA", "Thyroid carcinoma", "094", Rule(iccc_extended=["094"]))
PPB = entity("PPB", "Pleuropulmonary blastoma", "111", Rule(morphology="8973", behaviour=[1, 3]))
NUT = entity(
    "NUT_CA",
    "NUT carcinoma",
    "107",
    Rule(morphology="8023", topography_exclude="C73.9, C11"),
)
ENTITIES = [ACC, HEPATOBLASTOMA, WILMS, MELANOMA, NPC, THYROID, PPB, NUT]


@pytest.fixture(scope="module")
def iccc() -> schema.IcccFile:
    data = yaml.safe_load((DEFINITIONS / "iccc3.yaml").read_text(encoding="utf-8"))
    return schema.IcccFile.model_validate(data)


@pytest.fixture(scope="module")
def classifier(iccc: schema.IcccFile) -> Classifier:
    return Classifier(iccc, ENTITIES)


# --- a very rare tumour, and why ----------------------------------------------------------------


def test_it_classifies_adrenocortical_carcinoma_as_a_vrt_in_expert_scope(classifier):
    assert classifier.classify("8370/3", "C74.0", 5) == Classification(
        morphology="8370/3",
        topography="C74.0",
        age_years=5.0,
        iccc_group="XIa",
        iccc_group_name="Adrenocortical carcinomas",
        iccc_extended="093",
        iccc_extended_name="Adrenocortical carcinomas",
        entity="ACC",
        entity_name="Adrenocortical carcinoma",
        vrt=True,
        expert_scope=True,
        reason="adrenocortical carcinoma (XIa, 093): a very rare tumour in EXPeRT scope",
    )


def test_it_normalises_compact_codes(classifier):
    result = classifier.classify(" 83703 ", "c740")
    assert (result.morphology, result.topography, result.entity) == ("8370/3", "C74.0", "ACC")


def test_a_vrt_by_incidence_outside_expert_scope_says_so(classifier):
    result = classifier.classify("8970/3", "C22.0", 2)
    assert (result.iccc_group, result.iccc_extended, result.entity) == ("VIIa", "041", "HB")
    assert result.vrt and not result.expert_scope
    assert result.reason == (
        "hepatoblastoma (VIIa, 041): a very rare tumour by incidence, but treated within its own "
        "clinical protocols, outside EXPeRT scope"
    )


def test_an_entity_in_expert_scope_that_is_not_rare_by_incidence_says_so(classifier):
    result = classifier.classify("8720/3", "C44.5", 12)
    assert result.entity == "MELANOMA" and not result.vrt and result.expert_scope
    assert result.reason == "melanoma (XId, 096): not a very rare tumour by incidence, but in EXPeRT scope"


def test_an_entity_that_is_not_a_vrt_is_named_but_not_counted(classifier):
    result = classifier.classify("8960/3", "C64.9", 3)
    assert (result.iccc_group, result.entity, result.vrt, result.expert_scope) == (
        "VIa",
        "WILMS",
        False,
        False,
    )
    assert result.reason == "nephroblastoma (VIa, 036) is not a very rare tumour"


def test_a_classified_tumour_without_an_entity_is_not_a_vrt(classifier):
    result = classifier.classify("9835/3", "C42.1", 4)
    assert (result.iccc_group, result.iccc_extended) == ("Ia", "001")
    assert (result.entity, result.entity_name, result.vrt, result.expert_scope) == (
        None,
        None,
        False,
        False,
    )
    assert result.reason == (
        "9835/3 at C42.1 is classified in ICCC-3 Ia, 001 (precursor cell leukaemias) "
        "and matches none of the registry's very rare tumour entities"
    )


def test_an_entity_name_that_starts_with_an_acronym_keeps_its_capitals(classifier):
    result = classifier.classify("8023/3", "C34.1", 15)
    assert result.entity == "NUT_CA"
    assert result.reason.startswith("NUT carcinoma (XIf, 101):")


# --- age ----------------------------------------------------------------------------------------


def test_the_default_paediatric_range_is_0_to_17_years(iccc):
    assert PAEDIATRIC_MAX_AGE == 17
    assert Classifier(iccc, ENTITIES).max_age == 17


@pytest.mark.parametrize(("age", "in_range"), [(0, True), (17, True), (17.9, True), (18, False), (25, False)])
def test_an_age_is_in_range_up_to_the_last_day_before_18(classifier, age, in_range):
    result = classifier.classify("8370/3", "C74.0", age)
    assert (result.vrt, result.expert_scope) == (in_range, in_range)
    assert result.entity == "ACC" and result.iccc_extended == "093"


def test_an_age_out_of_range_is_the_reason(classifier):
    result = classifier.classify("8370/3", "C74.0", 25)
    assert result.reason == (
        "age 25 is outside the registry's paediatric range (0-17 years): adrenocortical carcinoma "
        "(XIa, 093) is registered as a very rare tumour only within that range"
    )


def test_an_age_out_of_range_of_an_expert_scope_entity_names_the_scope(classifier):
    result = classifier.classify("8720/3", "C44.5", 30)
    assert not result.expert_scope
    assert result.reason.startswith("age 30 is outside the registry's paediatric range (0-17 years)")
    assert result.reason.endswith("melanoma (XId, 096) is in EXPeRT scope only within that range")


def test_a_wider_range_can_be_configured(iccc):
    adults = Classifier(iccc, ENTITIES, max_age=21)
    assert adults.classify("8370/3", "C74.0", 21.5).vrt
    assert "(0-21 years)" in adults.classify("8370/3", "C74.0", 22).reason


def test_an_unknown_age_classifies_without_the_age_check_and_says_so(classifier):
    result = classifier.classify("8370/3", "C74.0")
    assert result.age_years is None and result.vrt and result.expert_scope
    assert result.reason.startswith("adrenocortical carcinoma (XIa, 093): a very rare tumour in EXPeRT scope")
    assert "age at diagnosis is unknown" in result.reason and "0-17 years" in result.reason


def test_an_unknown_age_is_not_mentioned_when_it_changes_nothing(classifier):
    assert "age" not in classifier.classify("8960/3", "C64.9").reason
    assert "age" not in classifier.classify("9835/3", "C42.1").reason


def test_an_age_outside_the_range_does_not_change_a_tumour_that_is_no_vrt(classifier):
    assert classifier.classify("8960/3", "C64.9", 40).reason == "nephroblastoma (VIa, 036) is not a very rare tumour"


def test_the_age_is_kept_as_a_number_of_years(classifier):
    assert classifier.classify("8370/3", "C74.0", 3).age_years == 3.0


# --- not classified by ICCC-3 ------------------------------------------------------------------


def test_a_benign_tumour_is_not_classified_and_the_reason_says_it_is_not_malignant(classifier):
    result = classifier.classify("8370/0", "C74.0", 5)
    assert (result.iccc_group, result.iccc_extended, result.entity, result.vrt) == (
        None,
        None,
        None,
        False,
    )
    assert result.reason.startswith("8370/0 is not malignant (benign): ICCC-3 classifies")


@pytest.mark.parametrize(
    ("morphology", "start"),
    [
        ("8010/2", "8010/2 is not malignant (in situ): ICCC-3 does not classify it"),
        ("8370/1", "8370/1 is not malignant (of uncertain behaviour)"),
        ("8370/6", "8370/6 is a metastasis: ICCC-3 classifies the primary tumour"),
        ("8370/9", "8370/9 is uncertain whether primary or metastatic"),
    ],
)
def test_each_non_malignant_behaviour_has_its_reason(classifier, morphology, start):
    result = classifier.classify(morphology, "C74.0", 5)
    assert result.iccc_group is None and result.entity is None
    assert result.reason.startswith(start)


def test_a_malignant_code_outside_every_rule_says_what_is_missing(classifier):
    assert classifier.classify("9999/3", "C49.0").reason == (
        "9999/3 is not classified by ICCC-3: none of its groups takes histology 9999"
    )
    assert classifier.classify("8158/3", "C71.9").reason == (
        "8158/3 at C71.9 is not classified by ICCC-3: histology 8158 is classified only at other sites"
    )


def test_a_benign_cns_tumour_is_classified_in_group_iii(classifier):
    result = classifier.classify("9421/1", "C71.6", 8)
    assert (result.iccc_group, result.iccc_extended, result.entity) == ("IIIb", "019", None)


def test_an_entity_can_match_a_code_that_iccc_3_does_not_classify(classifier):
    result = classifier.classify("8973/1", "C34.1", 2)
    assert (result.iccc_group, result.entity, result.vrt) == (None, "PPB", True)
    assert result.reason.startswith("pleuropulmonary blastoma (not classified by ICCC-3): a very rare tumour")


# --- entity matching ----------------------------------------------------------------------------


def test_a_rule_with_a_topography_holds_only_at_those_sites(classifier):
    assert classifier.classify("8070/3", "C11.1", 14).entity == "NPC"
    elsewhere = classifier.classify("8070/3", "C10.0", 14)
    assert elsewhere.entity is None and elsewhere.iccc_extended == "107"


def test_a_rule_with_an_excluded_topography_does_not_hold_there(classifier):
    assert classifier.classify("8023/3", "C34.1", 14).entity == "NUT_CA"
    assert classifier.classify("8023/3", "C73.9", 14).entity == "THYROID_CA"
    assert classifier.classify("8023/3", "C11.2", 14).entity == "NPC"
    only_nut = Classifier(classifier.iccc.definition, [NUT])
    assert only_nut.classify("8023/3", "C73.9", 14).entity is None
    assert only_nut.classify("8023/3", "C11.2", 14).entity is None


def test_a_rule_with_iccc_groups_follows_the_iccc_classification(classifier):
    assert classifier.classify("8330/3", "C34.1", 10).entity == "THYROID_CA"  # 094 at any site
    assert classifier.classify("8333/3", "C34.1", 10).entity is None  # 101: lung carcinoma


def test_a_rule_holds_only_for_its_behaviours(classifier):
    assert classifier.classify("8370/3", "C74.0", 5).entity == "ACC"
    assert classifier.classify("8370/1", "C74.0", 5).entity is None  # default behaviour [3]
    assert classifier.classify("8973/1", "C34.1", 5).entity == "PPB"  # behaviour [1, 3]
    assert classifier.classify("8973/0", "C34.1", 5).entity is None


def test_any_one_rule_of_an_entity_is_enough(iccc):
    two_rules = entity(
        "ACC",
        "Adrenocortical carcinoma",
        "093",
        Rule(morphology="8370"),
        Rule(iccc_extended=["093"]),
    )
    c = Classifier(iccc, [two_rules])
    assert c.classify("8370/3", "C74.0").entity == "ACC"
    assert c.classify("8158/3", "C74.0").entity == "ACC"
    assert c.classify("8158/3", "C73.9").entity is None


def test_the_first_entity_in_the_list_wins(iccc):
    broad = entity("CARCINOMA", "Carcinoma", "107", Rule(morphology="8000-8999"), vrt=False, scope=False)
    assert Classifier(iccc, [ACC, broad]).classify("8370/3", "C74.0").entity == "ACC"
    assert Classifier(iccc, [broad, ACC]).classify("8370/3", "C74.0").entity == "CARCINOMA"
    by_group = entity("ADRENAL", "Adrenal carcinoma", "093", Rule(iccc_extended=["093"]))
    assert Classifier(iccc, [by_group, ACC]).classify("8370/3", "C74.0").entity == "ADRENAL"
    assert Classifier(iccc, [ACC, by_group]).classify("8370/3", "C74.0").entity == "ACC"


# --- invalid input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("morphology", "topography", "age", "named"),
    [
        ("8370", "C74.0", None, "8370"),
        ("abcd/3", "C74.0", None, "abcd/3"),
        ("8370/4", "C74.0", None, "8370/4"),
        ("7999/3", "C74.0", None, "7999/3"),
        ("8370/3", "C99.9", None, "C99.9"),
        ("8370/3", "74.0", None, "74.0"),
        ("8370/3", "C74.0", -1, "-1"),
        ("8370/3", "C74.0", 121, "121"),
        ("8370/3", "C74.0", float("nan"), "nan"),
        ("8370/3", "C74.0", "five", "five"),
    ],
)
def test_an_invalid_code_or_age_is_refused_with_the_bad_value_named(classifier, morphology, topography, age, named):
    with pytest.raises(CodeError, match=re.escape(named)):
        classifier.classify(morphology, topography, age)


def test_the_behaviour_error_says_which_behaviours_exist(classifier):
    with pytest.raises(CodeError, match="behaviour 4 is not one of 0, 1, 2, 3, 6, 9"):
        classifier.classify("8370/4", "C74.0")


def test_an_impossible_age_is_explained(classifier):
    with pytest.raises(CodeError, match="between 0 and 120"):
        classifier.classify("8370/3", "C74.0", -1)


def test_an_error_does_not_spoil_the_next_classification(classifier):
    with pytest.raises(CodeError):
        classifier.classify("8370/3", "C99.9")
    assert classifier.classify("8370/3", "C74.0", 1).entity == "ACC"


def test_a_paediatric_range_beyond_any_age_is_refused(iccc):
    with pytest.raises(ValueError, match="max_age"):
        Classifier(iccc, ENTITIES, max_age=200)
