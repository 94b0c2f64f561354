"""ICCC-3 (IARC 2017) definition in iccc3.yaml and its classifier, without a database."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from partner.dictionary import schema
from partner.dictionary.iccc import IcccClassifier, IcccResult
from partner.lib.icdo import parse_morphology, topography_key

DEFINITIONS = Path(__file__).resolve().parents[1] / "definitions" / "v1"
NUMERALS = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]


@pytest.fixture(scope="module")
def definition() -> schema.IcccFile:
    data = yaml.safe_load((DEFINITIONS / "iccc3.yaml").read_text(encoding="utf-8"))
    return schema.IcccFile.model_validate(data)


@pytest.fixture(scope="module")
def iccc(definition: schema.IcccFile) -> IcccClassifier:
    return IcccClassifier(definition)


def classify(iccc: IcccClassifier, morphology: str, topography: str) -> IcccResult | None:
    m = parse_morphology(morphology)
    return iccc.classify(m.histology, m.behaviour, topography_key(topography))


def extended_of(iccc: IcccClassifier, morphology: str, topography: str) -> str | None:
    result = classify(iccc, morphology, topography)
    return result.extended if result else None


# --- the definition file ------------------------------------------------------------------------


def test_the_file_names_its_source_the_iarc_2017_update(definition):
    assert "International Classification of Childhood Cancer" in definition.source
    assert "2017" in definition.source and "Steliarova-Foucher" in definition.source


def test_it_has_the_twelve_main_groups_in_order(definition):
    assert [g.numeral for g in definition.groups] == NUMERALS
    assert definition.groups[10].name == "Other malignant epithelial neoplasms and malignant melanomas"


def test_every_subgroup_belongs_to_a_main_group_and_has_extended_groups(definition):
    assert len(definition.subgroups) == 48
    codes = [s.code for s in definition.subgroups]
    assert len(set(codes)) == len(codes)
    assert {c.rstrip("abcdef") for c in codes} == set(NUMERALS)
    assert {e.subgroup for e in definition.extended} == set(codes)


def test_the_extended_groups_run_from_001_to_115_without_a_gap(definition):
    assert [e.code for e in definition.extended] == [f"{n:03d}" for n in range(1, 116)]


def test_every_extended_group_has_a_rule_and_every_rule_a_known_group(definition):
    ruled = [r.extended for r in definition.rules]
    assert set(ruled) == {e.code for e in definition.extended}
    assert ruled == sorted(ruled), "rules keep the published order, which follows the groups"


def test_only_intracranial_and_intraspinal_rules_take_non_malignant_behaviour(definition):
    subgroup = {e.code: e.subgroup for e in definition.extended}
    lenient = {subgroup[r.extended] for r in definition.rules if r.behaviour != [3]}
    assert lenient == {"IIIa", "IIIb", "IIIc", "IIId", "IIIe", "IIIf", "Xa"}
    assert all(r.behaviour == [0, 1, 3] for r in definition.rules if r.behaviour != [3])


def test_the_first_rule_that_holds_wins(definition):
    # The published rules do not overlap; overlapping ones show that file order decides.
    narrow = schema.IcccRule(extended="093", sites="C74.0", histology="8158", behaviour=[3])
    broad = schema.IcccRule(extended="107", histology="8000-8999", behaviour=[3])
    first = IcccClassifier(definition.model_copy(update={"rules": [narrow, broad]}))
    assert first.classify(8158, 3, 740).extended == "093"
    assert first.classify(8158, 3, 739).extended == "107"
    last = IcccClassifier(definition.model_copy(update={"rules": [broad, narrow]}))
    assert last.classify(8158, 3, 740).extended == "107"


def test_excluded_sites_and_histologies_do_not_match(definition):
    rule = schema.IcccRule(
        extended="107",
        sites="C00-C80",
        sites_exclude="C74",
        histology="8000-8999",
        histology_exclude="8370-8375",
        behaviour=[3],
    )
    iccc = IcccClassifier(definition.model_copy(update={"rules": [rule]}))
    assert iccc.classify(8010, 3, 739).extended == "107"
    assert iccc.classify(8010, 3, 740) is None
    assert iccc.classify(8370, 3, 739) is None


def test_a_rule_naming_a_missing_extended_group_is_refused(definition):
    broken = definition.model_copy(
        update={
            "rules": [
                *definition.rules,
                schema.IcccRule(extended="116", histology="8000", behaviour=[3]),
            ]
        }
    )
    with pytest.raises(ValueError, match="116"):
        IcccClassifier(broken)


# --- one code in every subgroup -----------------------------------------------------------------

SUBGROUP_CASES = [
    ("9835/3", "C42.1", "Ia", "001"),
    ("9861/3", "C42.1", "Ib", "005"),
    ("9875/3", "C42.1", "Ic", "006"),
    ("9989/3", "C42.1", "Id", "007"),
    ("9800/3", "C42.1", "Ie", "008"),
    ("9650/3", "C77.0", "IIa", "009"),
    ("9727/3", "C77.0", "IIb", "010"),
    ("9687/3", "C77.0", "IIc", "014"),
    ("9751/3", "C41.0", "IId", "015"),
    ("9590/3", "C77.0", "IIe", "016"),
    ("9391/3", "C71.7", "IIIa", "017"),
    ("9400/3", "C71.0", "IIIb", "019"),
    ("9470/3", "C71.6", "IIIc", "020"),
    ("9450/3", "C71.1", "IIId", "024"),
    ("9350/1", "C75.2", "IIIe", "028"),
    ("8000/3", "C71.9", "IIIf", "032"),
    ("9500/3", "C74.9", "IVa", "033"),
    ("8700/3", "C74.1", "IVb", "034"),
    ("9510/3", "C69.2", "Va", "035"),
    ("8960/3", "C64.9", "VIa", "036"),
    ("8310/3", "C64.9", "VIb", "039"),
    ("8000/3", "C64.9", "VIc", "040"),
    ("8970/3", "C22.0", "VIIa", "041"),
    ("8170/3", "C22.0", "VIIb", "044"),
    ("8000/3", "C22.0", "VIIc", "045"),
    ("9180/3", "C40.2", "VIIIa", "046"),
    ("9220/3", "C41.4", "VIIIb", "047"),
    ("9260/3", "C40.2", "VIIIc", "048"),
    ("9370/3", "C41.2", "VIIId", "051"),
    ("8800/3", "C40.2", "VIIIe", "054"),
    ("8910/3", "C49.0", "IXa", "055"),
    ("9540/3", "C47.2", "IXb", "057"),
    ("9140/3", "C49.0", "IXc", "059"),
    ("9040/3", "C49.2", "IXd", "066"),
    ("8800/3", "C49.2", "IXe", "071"),
    ("9064/3", "C75.3", "Xa", "072"),
    ("9071/3", "C76.3", "Xb", "081"),
    ("9071/3", "C56.9", "Xc", "087"),
    ("8441/3", "C56.9", "Xd", "091"),
    ("8620/3", "C56.9", "Xe", "092"),
    ("8370/3", "C74.0", "XIa", "093"),
    ("8260/3", "C73.9", "XIb", "094"),
    ("8070/3", "C11.1", "XIc", "095"),
    ("8720/3", "C44.5", "XId", "096"),
    ("8090/3", "C44.3", "XIe", "097"),
    ("8140/3", "C18.7", "XIf", "099"),
    ("8973/3", "C34.1", "XIIa", "111"),
    ("8000/3", "C49.0", "XIIb", "115"),
]


def test_the_cases_below_cover_every_subgroup_and_main_group(definition):
    assert {c[2] for c in SUBGROUP_CASES} == {s.code for s in definition.subgroups}


@pytest.mark.parametrize(("morphology", "topography", "subgroup", "extended"), SUBGROUP_CASES)
def test_it_classifies_a_code_of_each_subgroup(iccc, definition, morphology, topography, subgroup, extended):
    result = classify(iccc, morphology, topography)
    assert result is not None
    assert (result.subgroup, result.extended) == (subgroup, extended)
    assert result.group == subgroup.rstrip("abcdef")
    assert result.subgroup_name == next(s.name for s in definition.subgroups if s.code == subgroup)
    assert result.extended_name == next(e.name for e in definition.extended if e.code == extended)


def test_it_gives_group_numeral_subgroup_and_names_of_adrenocortical_carcinoma(iccc):
    assert classify(iccc, "8370/3", "C74.0") == IcccResult(
        group="XI",
        subgroup="XIa",
        extended="093",
        subgroup_name="Adrenocortical carcinomas",
        extended_name="Adrenocortical carcinomas",
    )


# --- published edge cases ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("topography", "extended"),
    [
        ("C74.0", "093"),  # adrenal cortex: adrenocortical carcinoma
        ("C73.9", "094"),
        ("C22.0", "044"),
        ("C56.9", "091"),
        ("C75.1", "027"),  # pituitary: an earlier rule of group III
        ("C34.1", "101"),
        ("C16.0", "107"),
        ("C80.9", "108"),
        ("C74.9", None),  # adrenal gland, NOS: no rule names the site
    ],
)
def test_it_classifies_8158_as_adrenocortical_only_at_c74_0(iccc, topography, extended):
    assert extended_of(iccc, "8158/3", topography) == extended


@pytest.mark.parametrize(
    ("morphology", "topography", "subgroup", "extended"),
    [
        ("8010/3", "C73.9", "XIb", "094"),
        ("8070/3", "C11.2", "XIc", "095"),
        ("8010/3", "C44.3", "XIe", "097"),
        ("8070/3", "C07.9", "XIf", "098"),
        ("8010/3", "C08.0", "XIf", "098"),
        ("8010/3", "C18.7", "XIf", "099"),
        ("8070/3", "C20.9", "XIf", "099"),
        ("8010/3", "C18.1", "XIf", "100"),
        ("8070/3", "C34.1", "XIf", "101"),
        ("8010/3", "C37.9", "XIf", "102"),
        ("8010/3", "C50.4", "XIf", "103"),
        ("8070/3", "C53.0", "XIf", "104"),
        ("8010/3", "C67.2", "XIf", "105"),
        ("8010/3", "C69.4", "XIf", "106"),
        ("8070/3", "C16.0", "XIf", "107"),
        ("8010/3", "C80.9", "XIf", "108"),
    ],
)
def test_a_carcinoma_code_falls_in_the_group_of_its_site(iccc, morphology, topography, subgroup, extended):
    result = classify(iccc, morphology, topography)
    assert result is not None and (result.subgroup, result.extended) == (subgroup, extended)


@pytest.mark.parametrize(
    ("morphology", "topography"),
    [("8330/3", "C73.9"), ("8340/3", "C34.1"), ("8350/3", "C80.9"), ("8337/3", "C37.9")],
)
def test_follicular_and_papillary_thyroid_codes_are_thyroid_carcinomas_at_any_site(iccc, morphology, topography):
    assert extended_of(iccc, morphology, topography) == "094"


def test_8333_is_a_thyroid_carcinoma_only_in_the_thyroid(iccc):
    assert extended_of(iccc, "8333/3", "C73.9") == "094"
    assert extended_of(iccc, "8333/3", "C34.1") == "101"


@pytest.mark.parametrize(
    ("morphology", "topography", "subgroup", "extended"),
    [
        ("8960/3", "C64.9", "VIa", "036"),  # Wilms tumour
        ("9835/3", "C42.1", "Ia", "001"),  # precursor cell lymphoblastic leukaemia
        ("8806/3", "C49.4", "IXd", "070"),  # desmoplastic small round cell tumour
        ("8700/3", "C74.1", "IVb", "034"),  # phaeochromocytoma
        ("9370/3", "C41.2", "VIIId", "051"),  # chordoma
        ("8936/3", "C16.2", "XIIa", "109"),  # gastrointestinal stromal tumour
        ("8971/3", "C25.0", "XIIa", "110"),  # pancreatoblastoma
        ("8973/3", "C34.1", "XIIa", "111"),  # pleuropulmonary blastoma
        ("9050/3", "C38.4", "XIIa", "113"),  # mesothelioma
    ],
)
def test_it_classifies_the_named_tumours(iccc, morphology, topography, subgroup, extended):
    result = classify(iccc, morphology, topography)
    assert result is not None and (result.subgroup, result.extended) == (subgroup, extended)


@pytest.mark.parametrize(
    ("morphology", "topography", "extended"),
    [
        ("9421/1", "C71.6", "019"),  # pilocytic astrocytoma
        ("9530/0", "C70.0", "031"),  # meningioma
        ("9350/1", "C75.2", "028"),  # craniopharyngioma
        ("8000/0", "C71.9", "032"),
        ("8272/0", "C75.1", "027"),  # pituitary adenoma
        ("9080/0", "C75.3", "073"),  # pineal mature teratoma
        ("9391/1", "C72.0", "017"),
    ],
)
def test_benign_and_borderline_cns_tumours_are_classified(iccc, morphology, topography, extended):
    assert extended_of(iccc, morphology, topography) == extended


@pytest.mark.parametrize(
    ("morphology", "topography"),
    [
        ("8370/0", "C74.0"),  # adrenocortical adenoma
        ("9080/0", "C56.9"),  # mature teratoma of the ovary
        ("8000/0", "C49.0"),
        ("8960/1", "C64.9"),
        ("8010/2", "C53.0"),  # in situ
        ("8370/6", "C74.0"),  # metastatic
        ("9421/2", "C71.6"),  # CNS rules take 0, 1 and 3 only
    ],
)
def test_a_tumour_that_is_not_malignant_outside_the_cns_rules_is_not_classified(iccc, morphology, topography):
    assert classify(iccc, morphology, topography) is None


@pytest.mark.parametrize(
    ("morphology", "topography", "extended"),
    [
        ("8963/3", "C64.9", "037"),  # rhabdoid tumour: renal
        ("8963/3", "C22.0", "042"),  # hepatic
        ("8963/3", "C49.0", "062"),  # elsewhere
        ("9260/3", "C40.2", "048"),  # Ewing sarcoma of bone
        ("9260/3", "C49.0", "060"),  # of soft tissue
        ("9364/3", "C41.2", "049"),
        ("9364/3", "C49.0", "061"),
        ("8991/3", "C22.0", "043"),  # embryonal sarcoma of liver
        ("8991/3", "C49.0", "055"),
        ("9501/3", "C71.0", "022"),  # medulloepithelioma in the CNS
        ("9501/3", "C69.4", "034"),  # and in the eye
        ("9823/3", "C42.1", "002"),  # a leukaemia in blood and marrow
        ("9823/3", "C77.0", "011"),  # a lymphoma elsewhere
    ],
)
def test_the_same_histology_goes_to_the_group_of_its_site(iccc, morphology, topography, extended):
    assert extended_of(iccc, morphology, topography) == extended


@pytest.mark.parametrize(
    ("morphology", "topography"),
    [("8158/3", "C71.9"), ("8010/3", "C77.0"), ("9999/3", "C49.0"), ("8963/3", "C70.0")],
)
def test_a_malignant_code_that_no_rule_takes_is_not_classified(iccc, morphology, topography):
    assert classify(iccc, morphology, topography) is None


def test_it_knows_which_histologies_any_rule_names(iccc):
    assert iccc.classifies_histology(8158)
    assert not iccc.classifies_histology(9999)


def test_repeated_classification_gives_the_same_answer(iccc):
    first = [classify(iccc, m, t) for m, t, _, _ in SUBGROUP_CASES]
    again = [classify(iccc, m, t) for m, t, _, _ in SUBGROUP_CASES]
    assert first == again and all(first)
