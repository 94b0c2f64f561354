"""The VRT entities of the bundled dictionary (entities.yaml): coverage, names, flags, codes.

The definition files are read through the schema, without a database. The last tests check, with
the registry's classifier, that one representative tumour of each entity is given that entity and
the ICCC-3 extended group the entity declares.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from partner.dictionary import schema
from partner.lib.icdo import histology_set, topography_set

DEFINITIONS = Path(__file__).resolve().parents[1] / "definitions" / "v1"
LANGUAGES = ("en", "it", "fr", "de", "pl")

#: Entity codes that tumour modules, reports and other code refer to.
REQUIRED = {
    "ACC",
    "THYROID_CA",
    "NPC",
    "MELANOMA",
    "SKIN_CA",
    "SALIVARY_CA",
    "COLORECTAL_CA",
    "APPENDIX_CA",
    "LUNG_CA",
    "THYMIC_CA",
    "BREAST_CA",
    "CERVIX_CA",
    "BLADDER_CA",
    "GASTRIC_CA",
    "PANCREAS_SPN",
    "NUT_CA",
    "GIST",
    "PANCREATOBLASTOMA",
    "PPB",
    "MESOTHELIOMA",
    "DSRCT",
    "PHEO_PGL",
    "CHORDOMA",
    "OVARY_SCST",
    "HEPATOBLASTOMA",
}

#: The entities that take carcinomas by their site (ICCC-3 XIb-XIf); entities defined by a
#: histology at any site must come before them.
BY_SITE = {
    "THYROID_CA",
    "NPC",
    "SKIN_CA",
    "SALIVARY_CA",
    "COLORECTAL_CA",
    "APPENDIX_CA",
    "LUNG_CA",
    "THYMIC_CA",
    "BREAST_CA",
    "CERVIX_CA",
    "BLADDER_CA",
    "GASTRIC_CA",
}

#: One representative tumour per entity: (morphology, topography).
EXAMPLES = {
    "NUT_CA": ("8023/3", "C38.3"),  # mediastinum: carcinomas of other specified sites
    "ACC": ("8370/3", "C74.0"),
    "PHEO_PGL": ("8700/3", "C74.1"),
    "ESTHESIONEUROBLASTOMA": ("9522/3", "C30.0"),
    "THYROID_CA": ("8260/3", "C73.9"),
    "NPC": ("8072/3", "C11.9"),
    "MELANOMA": ("8720/3", "C44.5"),
    "SKIN_CA": ("8090/3", "C44.3"),
    "SALIVARY_CA": ("8430/3", "C07.9"),
    "COLORECTAL_CA": ("8140/3", "C18.7"),
    "APPENDIX_CA": ("8240/3", "C18.1"),
    "LUNG_CA": ("8430/3", "C34.0"),
    "THYMIC_CA": ("8585/3", "C37.9"),
    "BREAST_CA": ("8502/3", "C50.9"),
    "CERVIX_CA": ("8310/3", "C53.9"),
    "BLADDER_CA": ("8120/3", "C67.9"),
    "PANCREAS_SPN": ("8452/3", "C25.2"),
    "GASTRIC_CA": ("8140/3", "C16.2"),
    "GIST": ("8936/3", "C16.2"),
    "PANCREATOBLASTOMA": ("8971/3", "C25.0"),
    "PPB": ("8973/3", "C34.1"),
    "MESOTHELIOMA": ("9050/3", "C38.4"),
    "DSRCT": ("8806/3", "C48.2"),
    "CHORDOMA": ("9370/3", "C41.0"),
    "OVARY_SCST": ("8620/3", "C56.9"),
    "TESTIS_SCST": ("8650/3", "C62.9"),
    "OVARY_SCCOHT": ("8044/3", "C56.9"),
    "HEPATOBLASTOMA": ("8970/3", "C22.0"),
    "HEPATOCELLULAR_CA": ("8170/3", "C22.0"),
    "RENAL_CELL_CA": ("8312/3", "C64.9"),
}


def _read(name: str) -> object:
    return yaml.safe_load((DEFINITIONS / name).read_text(encoding="utf-8"))


ENTITY_LIST = schema.EntityFile.model_validate(_read("entities.yaml")).entities
ENTITIES = {e.code: e for e in ENTITY_LIST}


@pytest.fixture(scope="module")
def iccc() -> schema.IcccFile:
    return schema.IcccFile.model_validate(_read("iccc3.yaml"))


@pytest.fixture(scope="module")
def classifier(iccc):
    from partner.dictionary.classify import Classifier

    return Classifier(iccc, ENTITY_LIST)


# --- coverage and codes --------------------------------------------------------------------------


def test_there_are_at_least_25_entities_and_their_codes_are_unique():
    assert len(ENTITY_LIST) >= 25
    assert len(ENTITIES) == len(ENTITY_LIST)


def test_the_codes_other_parts_of_the_registry_rely_on_are_present():
    assert set(ENTITIES) >= REQUIRED, sorted(REQUIRED - set(ENTITIES))


def test_specific_histologies_come_before_the_carcinomas_by_site():
    order = [e.code for e in ENTITY_LIST]
    first_by_site = min(order.index(code) for code in BY_SITE)
    for code in ("NUT_CA", "ACC", "PHEO_PGL"):
        assert order.index(code) < first_by_site, code
    assert order.index("PANCREAS_SPN") < order.index("GASTRIC_CA")


def test_every_entity_declares_an_existing_iccc_extended_group(iccc):
    extended = {x.code for x in iccc.extended}
    for e in ENTITY_LIST:
        assert e.iccc_extended in extended, e.code
        for rule in e.match:
            assert set(rule.iccc_extended or ()) <= extended, e.code


def test_the_groups_of_the_very_rare_tumours_are_covered(iccc):
    subgroups = {x.code: x.subgroup for x in iccc.extended}
    covered = {subgroups[e.iccc_extended] for e in ENTITY_LIST}
    assert {"XIa", "XIb", "XIc", "XId", "XIe", "XIf", "XIIa", "IVb", "VIIId", "IXd", "Xe"} <= covered


def test_every_match_rule_parses():
    for e in ENTITY_LIST:
        for rule in e.match:
            if rule.morphology is not None:
                assert histology_set(rule.morphology), e.code
            for spec in (rule.topography, rule.topography_exclude):
                if spec is not None:
                    assert topography_set(spec), e.code
            assert rule.behaviour, e.code


def test_panels_group_the_entities_into_five_to_seven_expert_panels():
    panels = {e.panel for e in ENTITY_LIST}
    assert 5 <= len(panels) <= 7, panels
    assert all(p == p.lower() for p in panels)


# --- names and descriptions ------------------------------------------------------------------------


def test_every_entity_has_a_name_and_a_description_in_each_language():
    for e in ENTITY_LIST:
        assert e.description is not None, e.code
        for lang in LANGUAGES:
            assert getattr(e.names, lang).strip(), (e.code, lang)
            assert getattr(e.description, lang).strip(), (e.code, lang)


def test_names_and_descriptions_are_really_translated():
    for lang in LANGUAGES[1:]:
        names = [e for e in ENTITY_LIST if getattr(e.names, lang) != e.names.en]
        assert len(names) >= 0.8 * len(ENTITY_LIST), lang
        for e in ENTITY_LIST:
            assert getattr(e.description, lang) != e.description.en, (e.code, lang)


# --- flags and ORPHA codes -------------------------------------------------------------------------


def test_hepatoblastoma_is_rare_by_incidence_but_outside_expert_scope():
    e = ENTITIES["HEPATOBLASTOMA"]
    assert e.incidence_vrt and not e.expert_scope


def test_orpha_codes_are_unique_and_the_known_ones_are_right():
    codes = [e.orpha for e in ENTITY_LIST if e.orpha is not None]
    assert len(codes) == len(set(codes))
    assert ENTITIES["ACC"].orpha == 1501
    assert ENTITIES["PPB"].orpha == 64742
    assert ENTITIES["DSRCT"].orpha == 83469
    assert ENTITIES["HEPATOBLASTOMA"].orpha == 449


# --- classification ---------------------------------------------------------------------------------


def test_every_entity_has_a_representative_tumour_here():
    assert set(EXAMPLES) == set(ENTITIES)


@pytest.mark.parametrize("code", list(EXAMPLES))
def test_the_representative_tumour_classifies_to_the_entity_and_its_group(classifier, code):
    morphology, topography = EXAMPLES[code]
    result = classifier.classify(morphology, topography, age_years=10)
    assert result.entity == code
    assert result.iccc_extended == ENTITIES[code].iccc_extended


def test_8158_is_adrenocortical_carcinoma_only_at_the_adrenal_cortex(classifier):
    assert classifier.classify("8158/3", "C74.0", age_years=5).entity == "ACC"
    assert classifier.classify("8158/3", "C64.9", age_years=5).entity != "ACC"


def test_nut_carcinoma_wins_over_the_carcinomas_of_its_site(classifier):
    lung = classifier.classify("8023/3", "C34.1", age_years=12)
    assert (lung.entity, lung.iccc_extended) == ("NUT_CA", "101")
    nasopharynx = classifier.classify("8023/3", "C11.9", age_years=12)
    assert (nasopharynx.entity, nasopharynx.iccc_extended) == ("NUT_CA", "095")


def test_sex_cord_stromal_codes_outside_the_gonads_are_not_a_gonadal_entity(classifier):
    result = classifier.classify("8620/3", "C48.2", age_years=10)
    assert result.entity not in {"OVARY_SCST", "TESTIS_SCST"}


def test_hepatoblastoma_classifies_as_rare_but_not_in_expert_scope(classifier):
    result = classifier.classify("8970/3", "C22.0", age_years=1)
    assert result.entity == "HEPATOBLASTOMA"
    assert result.vrt and not result.expert_scope
