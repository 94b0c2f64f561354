"""Completeness of the required fields, counted only where each field is due, on frames built without a database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import pytest

from partner.quality.completeness import completeness, field_labels
from partner.quality.testing import context_of

PADOVA = {"country": "IT", "centre": "IT-PD"}
MILANO = {"country": "IT", "centre": "IT-MI"}
PARIS = {"country": "FR", "centre": "FR-PA"}

CASES: list[dict[str, Any]] = [
    PADOVA
    | {
        "entity": "MELANOMA",
        "sex": "female",
        "date_of_birth": "2011-03-02",
        "mel_subtype": "conventional",
        "mel_breslow_mm": 1.2,
        "undiagnosed_case": True,
        "hpo_terms": "HP:0001250",
    },
    PADOVA | {"entity": "ACC", "sex": "male", "undiagnosed_case": True},
    MILANO | {"entity": "MELANOMA", "date_of_birth": "2012-01-05", "metastatic_at_diagnosis": "yes"},
    MILANO | {"entity": "MELANOMA", "mel_subtype": "uveal", "metastatic_at_diagnosis": "yes"},
    PARIS | {"entity": "ACC", "sex": "female", "status": "draft", "undiagnosed_case": True},
    PARIS | {"entity": None, "sex": "female", "status": "validated"},
]


def counts(cases: Sequence[Mapping[str, Any]], by: str, field: str) -> dict[str, tuple[int, int]]:
    """(filled, expected) of one field per group."""
    ctx = context_of(cases)
    table = completeness(ctx.cases, ctx.dictionary, by)
    rows = table[table["field"] == field]
    return {
        ("<NA>" if pd.isna(group) else group): (filled, expected)
        for group, filled, expected in zip(rows[by], rows["filled"], rows["expected"], strict=True)
    }


def test_it_counts_a_required_field_per_country_centre_and_entity() -> None:
    assert counts(CASES, "country", "sex") == {"IT": (2, 4), "FR": (1, 1)}
    assert counts(CASES, "centre", "sex") == {"FR-PA": (1, 1), "IT-MI": (0, 2), "IT-PD": (2, 2)}
    assert counts(CASES, "entity", "sex") == {"ACC": (1, 1), "MELANOMA": (1, 3), "<NA>": (1, 1)}


def test_it_leaves_drafts_out() -> None:
    assert counts(CASES, "centre", "date_of_birth")["FR-PA"] == (0, 1)
    drafts_only = [PARIS | {"sex": "female", "status": "draft"}]
    ctx = context_of(drafts_only)
    assert completeness(ctx.cases, ctx.dictionary, "country").empty


def test_it_counts_a_required_if_field_only_where_its_condition_holds() -> None:
    # hpo_terms is required when the case is undiagnosed: two non-draft cases are, one has terms.
    assert counts(CASES, "country", "hpo_terms") == {"IT": (1, 2)}
    # an empty multiple choice is not filled
    assert counts(CASES, "centre", "metastasis_sites") == {"IT-MI": (0, 2)}
    with_sites = [MILANO | {"metastatic_at_diagnosis": "yes", "metastasis_sites": ["lung"]}]
    assert counts(with_sites, "centre", "metastasis_sites") == {"IT-MI": (1, 1)}


def test_it_counts_a_module_field_only_for_the_modules_entities() -> None:
    assert counts(CASES, "entity", "mel_subtype") == {"MELANOMA": (2, 3)}
    assert counts(CASES, "country", "mel_subtype") == {"IT": (2, 3)}
    # Breslow thickness is asked for some subtypes only: not for uveal melanoma, nor an unknown subtype.
    assert counts(CASES, "centre", "mel_breslow_mm") == {"IT-PD": (1, 1)}


def test_it_gives_the_share_and_skips_computed_and_repeating_fields() -> None:
    ctx = context_of(CASES)
    table = completeness(ctx.cases, ctx.dictionary, "country")
    assert list(table.columns) == ["country", "form", "field", "filled", "expected", "share"]
    sex = table[(table["country"] == "IT") & (table["field"] == "sex")].iloc[0]
    assert sex["form"] == "registration"
    assert sex["share"] == pytest.approx(0.5)
    assert "pseudonym" not in set(table["field"])  # computed by the registry
    assert "line_type" not in set(table["field"])  # a treatment line repeats
    assert (table["expected"] > 0).all()


def test_it_follows_the_dictionarys_order_of_fields() -> None:
    ctx = context_of(CASES)
    table = completeness(ctx.cases, ctx.dictionary, "country")
    italy = table[table["country"] == "IT"]["field"].tolist()
    assert (
        italy.index("date_of_birth") < italy.index("sex") < italy.index("diagnosis_date") < italy.index("mel_subtype")
    )


def test_it_refuses_an_unknown_grouping() -> None:
    ctx = context_of(CASES)
    with pytest.raises(ValueError, match="grouped by"):
        completeness(ctx.cases, ctx.dictionary, "status")


def test_field_labels_are_in_the_language_asked_for_and_name_the_module() -> None:
    labels = field_labels(context_of(CASES).dictionary, "it")
    assert labels[("registration", "sex")] == "Sesso"
    assert labels[("melanoma", "mel_subtype")] == "Sottotipo di melanoma (Melanoma)"
    assert field_labels(context_of(CASES).dictionary, "it", name_module=False)[("melanoma", "mel_subtype")] == (
        "Sottotipo di melanoma"
    )
