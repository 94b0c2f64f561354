"""The VRT entities of the bundled dictionary: coverage, names, flags, and codes that classify to them."""

import pytest

from partner.dictionary.classify import Classifier
from partner.dictionary.definitions import read_definitions

D = read_definitions()
ENTITIES = {e.code: e for e in D.entities}

#: One representative tumour per entity: (morphology, topography).
EXAMPLES = {
    "NUT_CA": ("8023/3", "C38.3"),  # its ICCC-3 group follows the site; mediastinum is "other sites"
    "ACC": ("8370/3", "C74.0"),
    "THYROID_CA": ("8260/3", "C73.9"),
    "NPC": ("8072/3", "C11.9"),
    "MELANOMA": ("8720/3", "C44.5"),
    "SKIN_CA": ("8090/3", "C44.3"),
    "SALIVARY_CA": ("8430/3", "C07.9"),
    "COLORECTAL_CA": ("8140/3", "C18.7"),
    "APPENDIX_CA": ("8240/3", "C18.1"),
    "LUNG_CA": ("8430/3", "C34.0"),
    "THYMIC_CA": ("8585/3", "C37.9"),
    "BREAST_CA": ("8522/3", "C50.9"),
    "CERVIX_CA": ("8070/3", "C53.9"),
    "BLADDER_CA": ("8120/3", "C67.9"),
    "PANCREAS_SPN": ("8452/3", "C25.2"),
    "GASTRIC_CA": ("8140/3", "C16.2"),
    "GIST": ("8936/3", "C16.2"),
    "PANCREATOBLASTOMA": ("8971/3", "C25.0"),
    "PPB": ("8973/3", "C34.1"),
    "MESOTHELIOMA": ("9050/3", "C38.4"),
    "DSRCT": ("8806/3", "C48.2"),
    "PHEO_PGL": ("8700/3", "C74.1"),
    "CHORDOMA": ("9370/3", "C41.0"),
    "OVARY_SCST": ("8620/3", "C56.9"),
    "HEPATOBLASTOMA": ("8970/3", "C22.0"),
    "ESTHESIONEUROBLASTOMA": ("9522/3", "C30.0"),
    "RENAL_CELL_CA": ("8312/3", "C64.9"),
    "HEPATOCELLULAR_CA": ("8170/3", "C22.0"),
}


def test_there_are_at_least_25_entities_with_unique_codes():
    assert len(D.entities) >= 25
    assert len(ENTITIES) == len(D.entities)


def test_every_entity_has_an_example_here():
    assert set(EXAMPLES) == set(ENTITIES)


@pytest.mark.parametrize("code", sorted(EXAMPLES))
def test_the_example_classifies_to_the_entity_and_its_iccc_group(code):
    morphology, topography = EXAMPLES[code]
    result = Classifier(D.iccc, D.entities).classify(morphology, topography, age_years=10)
    assert result.entity == code
    assert result.iccc_extended == ENTITIES[code].iccc_extended


def test_the_groups_named_by_the_issue_are_covered():
    subgroups = {x.code: x.subgroup for x in D.iccc.extended}
    covered = {subgroups[e.iccc_extended] for e in D.entities}
    assert {"XIa", "XIb", "XIc", "XId", "XIe", "XIf", "XIIa", "IVb", "VIIId", "IXd"} <= covered


def test_names_are_translated_into_each_language():
    for lang in ("it", "fr", "de", "pl"):
        translated = [e for e in D.entities if e.names.get(lang) != e.names.en]
        assert len(translated) >= 0.8 * len(D.entities), lang


def test_hepatoblastoma_is_rare_by_incidence_but_outside_expert_scope():
    e = ENTITIES["HEPATOBLASTOMA"]
    assert e.incidence_vrt and not e.expert_scope
    result = Classifier(D.iccc, D.entities).classify("8970/3", "C22.0", 1)
    assert result.vrt and not result.expert_scope


def test_orpha_codes_are_unique_and_the_known_ones_are_right():
    codes = [e.orpha for e in D.entities if e.orpha]
    assert len(codes) == len(set(codes))
    assert ENTITIES["ACC"].orpha == 1501
    assert ENTITIES["PPB"].orpha == 64742


def test_8158_is_adrenocortical_only_at_the_adrenal_cortex():
    clf = Classifier(D.iccc, D.entities)
    assert clf.classify("8158/3", "C74.0", 5).entity == "ACC"
    assert clf.classify("8158/3", "C64.9", 5).entity != "ACC"


def test_nut_carcinoma_wins_over_the_carcinomas_of_its_site():
    result = Classifier(D.iccc, D.entities).classify("8023/3", "C34.1", 12)
    assert (result.entity, result.iccc_extended) == ("NUT_CA", "101")
