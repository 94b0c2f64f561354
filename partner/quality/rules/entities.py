"""Checks of the tumour modules: each applies only to the cases of its entity."""

from __future__ import annotations

import pandas as pd
from django.utils.translation import gettext_lazy as _

from .base import ERROR, QUERY, WARNING, Context, Rule, codes_in, mask


def _of(ctx: Context, entity: str) -> pd.Series:
    return ctx.cached(("entity", entity), lambda: mask(ctx.cases["entity"] == entity))


# --- Adrenocortical carcinoma -----------------------------------------------------------------


def _acc_weiss(ctx: Context) -> pd.Series:
    return _of(ctx, "ACC") & mask(ctx.cases["acc_weiss_score"] < 3)


# ENSAT (Fassnacht et al., Cancer 2009): stage I is T1 (5 cm or less), stage II T2 (over 5 cm), both N0 M0.
ENSAT_T1_MAX_CM = 5.0


def _acc_ensat_size(ctx: Context) -> pd.Series:
    stage, size = ctx.choice("acc_ensat_stage"), ctx.cases["acc_largest_diameter_cm"]
    wrong = ((stage == "I") & mask(size > ENSAT_T1_MAX_CM)) | ((stage == "II") & mask(size <= ENSAT_T1_MAX_CM))
    return _of(ctx, "ACC") & wrong


def _acc_ensat_nodes(ctx: Context) -> pd.Series:
    stage, nodes = ctx.choice("acc_ensat_stage"), ctx.choice("acc_nodal_involvement")
    return _of(ctx, "ACC") & stage.isin(["I", "II"]) & (nodes == "present")


# --- Melanoma -----------------------------------------------------------------------------------

# AJCC 8th edition: stage IA is T1a or T1b N0 M0, a Breslow thickness of 1.0 mm or less.
STAGE_IA_MAX_BRESLOW_MM = 1.0


def _mel_breslow_stage(ctx: Context) -> pd.Series:
    stage, breslow = ctx.choice("mel_ajcc_stage"), ctx.cases["mel_breslow_mm"]
    return _of(ctx, "MELANOMA") & (stage == "IA") & mask(breslow > STAGE_IA_MAX_BRESLOW_MM)


# --- Nasopharyngeal carcinoma ---------------------------------------------------------------------


def _npc_m_stage(ctx: Context) -> pd.Series:
    m, stage = ctx.choice("npc_m"), ctx.choice("npc_stage")
    wrong = ((m == "M1") & stage.notna() & (stage != "IVB")) | ((stage == "IVB") & (m == "M0"))
    return _of(ctx, "NPC") & wrong


# --- Thyroid carcinoma ----------------------------------------------------------------------------

# The ICD-O-3 histologies of each kind of thyroid carcinoma. Papillary also takes 8350, the
# diffuse sclerosing variant, which is frequent in children.
THYROID_HISTOLOGIES: dict[str, tuple[tuple[int, int] | int, ...]] = {
    "medullary": ((8345, 8347), 8510),
    "papillary": (8050, 8260, (8340, 8344), 8350),
    "follicular": ((8330, 8335),),
}


def _thy_histology_morphology(ctx: Context) -> pd.Series:
    kind, histology = ctx.choice("thy_histology"), ctx.morphology()[0]
    wrong = pd.Series(False, index=ctx.cases.index)
    for name, codes in THYROID_HISTOLOGIES.items():
        wrong |= (kind == name) & histology.notna() & ~codes_in(histology, *codes)
    return _of(ctx, "THYROID_CA") & mask(wrong)


# --- Pleuropulmonary blastoma ---------------------------------------------------------------------


def _ppb_morphology(ctx: Context) -> pd.Series:
    histology = ctx.morphology()[0]
    return _of(ctx, "PPB") & histology.notna() & ~codes_in(histology, 8973)


ENTITY_RULES: list[Rule] = [
    Rule(
        "ACC-WEISS",
        QUERY,
        _(
            "A Weiss score below 3 describes an adenoma: confirm the carcinoma (in children the "
            "Wieneke criteria apply) or correct the score."
        ),
        ("acc.acc_weiss_score", "diagnosis.morphology"),
        "tumour module ACC: Weiss criteria (Weiss, 1984); paediatric criteria (Wieneke et al., 2003)",
        _acc_weiss,
    ),
    Rule(
        "ACC-ENSAT-SIZE",
        WARNING,
        _("The ENSAT stage does not match the tumour size: stage I is 5 cm or less, stage II over 5 cm."),
        ("acc.acc_ensat_stage", "acc.acc_largest_diameter_cm"),
        "tumour module ACC: ENSAT staging (Fassnacht et al., 2009)",
        _acc_ensat_size,
    ),
    Rule(
        "ACC-ENSAT-NODES",
        WARNING,
        _("ENSAT stage I or II with lymph node involvement: node involvement is stage III."),
        ("acc.acc_ensat_stage", "acc.acc_nodal_involvement"),
        "tumour module ACC: ENSAT staging (Fassnacht et al., 2009)",
        _acc_ensat_nodes,
    ),
    Rule(
        "MEL-BRESLOW-STAGE",
        WARNING,
        _("AJCC stage IA with a Breslow thickness over 1.0 mm: stage IA is 1.0 mm or less."),
        ("melanoma.mel_ajcc_stage", "melanoma.mel_breslow_mm"),
        "tumour module melanoma: AJCC Cancer Staging Manual, 8th edition",
        _mel_breslow_stage,
    ),
    Rule(
        "NPC-M-STAGE",
        ERROR,
        _("Distant metastasis (M1) is stage IVB, and stage IVB is M1."),
        ("npc.npc_stage", "npc.npc_m"),
        "tumour module NPC: AJCC Cancer Staging Manual, 8th edition",
        _npc_m_stage,
    ),
    Rule(
        "THY-HISTOLOGY-MORPHOLOGY",
        WARNING,
        _("The thyroid histology does not match the morphology code."),
        ("thyroid.thy_histology", "diagnosis.morphology"),
        "tumour module thyroid: ICD-O-3 codes of the thyroid carcinomas",
        _thy_histology_morphology,
    ),
    Rule(
        "PPB-MORPHOLOGY",
        WARNING,
        _("A pleuropulmonary blastoma is coded 8973 in ICD-O-3."),
        ("diagnosis.morphology",),
        "tumour module PPB: ICD-O-3 8973 (pleuropulmonary blastoma)",
        _ppb_morphology,
    ),
]
