"""The tumour modules' checks: each fails only for its own entity."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from partner.quality.engine import run_rules
from partner.quality.rules.entities import ENTITY_RULES
from partner.quality.testing import context_of

RULES = {r.code: r for r in ENTITY_RULES}


def failing(code: str, cases: Sequence[Mapping[str, Any]]) -> list[int]:
    return run_rules(context_of(cases), [RULES[code]])["case_id"].tolist()


def test_acc_weiss_score() -> None:
    cases = [
        {"entity": "ACC", "morphology": "8370/3", "acc_weiss_score": 2},
        {"entity": "ACC", "morphology": "8370/3", "acc_weiss_score": 3},
        {"entity": "ACC", "morphology": "8370/3"},
        {"entity": "PHEO_PGL", "acc_weiss_score": 1},
        {"entity": "ACC", "acc_weiss_score": 0},
    ]
    assert failing("ACC-WEISS", cases) == [1, 5]


def test_acc_ensat_stage_and_size() -> None:
    cases = [
        {"entity": "ACC", "acc_ensat_stage": "I", "acc_largest_diameter_cm": 5.0},
        {"entity": "ACC", "acc_ensat_stage": "I", "acc_largest_diameter_cm": 5.1},
        {"entity": "ACC", "acc_ensat_stage": "II", "acc_largest_diameter_cm": 5.0},
        {"entity": "ACC", "acc_ensat_stage": "II", "acc_largest_diameter_cm": 8.0},
        {"entity": "ACC", "acc_ensat_stage": "III", "acc_largest_diameter_cm": 3.0},
        {"entity": "ACC", "acc_ensat_stage": "I"},
        {"entity": "ACC", "acc_largest_diameter_cm": 12.0},
        {"entity": "NPC", "acc_ensat_stage": "I", "acc_largest_diameter_cm": 8.0},
    ]
    assert failing("ACC-ENSAT-SIZE", cases) == [2, 3]


def test_acc_ensat_stage_and_nodes() -> None:
    cases = [
        {"entity": "ACC", "acc_ensat_stage": "I", "acc_nodal_involvement": "present"},
        {"entity": "ACC", "acc_ensat_stage": "II", "acc_nodal_involvement": "present"},
        {"entity": "ACC", "acc_ensat_stage": "III", "acc_nodal_involvement": "present"},
        {"entity": "ACC", "acc_ensat_stage": "II", "acc_nodal_involvement": "absent"},
        {"entity": "ACC", "acc_ensat_stage": "II", "acc_nodal_involvement": "not_assessed"},
        {"entity": "ACC", "acc_nodal_involvement": "present"},
    ]
    assert failing("ACC-ENSAT-NODES", cases) == [1, 2]


def test_melanoma_breslow_and_stage() -> None:
    cases = [
        {"entity": "MELANOMA", "mel_ajcc_stage": "IA", "mel_breslow_mm": 1.0},
        {"entity": "MELANOMA", "mel_ajcc_stage": "IA", "mel_breslow_mm": 1.1},
        {"entity": "MELANOMA", "mel_ajcc_stage": "IB", "mel_breslow_mm": 1.5},
        {"entity": "MELANOMA", "mel_ajcc_stage": "IA"},
        {"entity": "SKIN_CA", "mel_ajcc_stage": "IA", "mel_breslow_mm": 2.0},
    ]
    assert failing("MEL-BRESLOW-STAGE", cases) == [2]


def test_npc_metastasis_and_stage() -> None:
    cases = [
        {"entity": "NPC", "npc_m": "M1", "npc_stage": "IVB"},
        {"entity": "NPC", "npc_m": "M1", "npc_stage": "III"},
        {"entity": "NPC", "npc_m": "M0", "npc_stage": "IVB"},
        {"entity": "NPC", "npc_m": "M0", "npc_stage": "IVA"},
        {"entity": "NPC", "npc_m": "M1"},
        {"entity": "NPC", "npc_stage": "IVB"},
        {"entity": "THYROID_CA", "npc_m": "M1", "npc_stage": "I"},
    ]
    assert failing("NPC-M-STAGE", cases) == [2, 3]


def test_thyroid_histology_and_morphology() -> None:
    cases = [
        {"entity": "THYROID_CA", "thy_histology": "medullary", "morphology": "8345/3"},
        {"entity": "THYROID_CA", "thy_histology": "medullary", "morphology": "8510/3"},
        {"entity": "THYROID_CA", "thy_histology": "medullary", "morphology": "8260/3"},
        {"entity": "THYROID_CA", "thy_histology": "papillary", "morphology": "8260/3"},
        {"entity": "THYROID_CA", "thy_histology": "papillary", "morphology": "8344/3"},
        {"entity": "THYROID_CA", "thy_histology": "papillary", "morphology": "8330/3"},
        {"entity": "THYROID_CA", "thy_histology": "follicular", "morphology": "8335/3"},
        {"entity": "THYROID_CA", "thy_histology": "follicular", "morphology": "8340/3"},
        {"entity": "THYROID_CA", "thy_histology": "anaplastic", "morphology": "8021/3"},
        {"entity": "THYROID_CA", "thy_histology": "papillary"},
        {"entity": "NPC", "thy_histology": "papillary", "morphology": "8070/3"},
    ]
    assert failing("THY-HISTOLOGY-MORPHOLOGY", cases) == [3, 6, 8]


def test_ppb_morphology() -> None:
    cases = [
        {"entity": "PPB", "morphology": "8973/3", "ppb_type": "II"},
        {"entity": "PPB", "morphology": "8973/1", "ppb_type": "I"},
        {"entity": "PPB", "morphology": "8800/3"},
        {"entity": "MESOTHELIOMA", "morphology": "9050/3"},
        {"entity": "PPB"},
    ]
    assert failing("PPB-MORPHOLOGY", cases) == [3]
