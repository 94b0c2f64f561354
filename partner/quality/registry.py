"""All the quality rules: those the dictionary implies, the cancer-registry checks, the tumour modules' own."""

from __future__ import annotations

from partner.dictionary.loader import Dictionary

from .rules.base import Rule, rules_of
from .rules.dictionary import dictionary_rules
from .rules.entities import ENTITY_RULES
from .rules.oncology import ONCOLOGY_RULES

_cache: dict[int, list[Rule]] = {}


def registry_rules(dictionary: Dictionary) -> list[Rule]:
    """Every rule in force under this dictionary version, each code once."""
    if dictionary.number not in _cache:
        _cache[dictionary.number] = rules_of(dictionary_rules(dictionary), ONCOLOGY_RULES, ENTITY_RULES)
    return _cache[dictionary.number]


def rule_by_code(dictionary: Dictionary) -> dict[str, Rule]:
    return {r.code: r for r in registry_rules(dictionary)}
