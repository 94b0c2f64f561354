"""ICCC-3 classification of ICD-O-3 codes, from the rules of a dictionary's iccc3.yaml.

The rules are tried in file order and the first that holds gives the extended group. For speed,
each histology code keeps the list of rules that name it, so a lookup scans a few rules instead
of the whole table; answers are cached per (histology, behaviour, topography).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from partner.lib.icdo import CodeSet, histology_set, topography_set

from . import schema

_CACHE_SIZE = 1 << 16


@dataclass(frozen=True)
class IcccResult:
    group: str  # main group numeral, "XI"
    subgroup: str  # diagnostic subgroup, "XIa": what the registry reports as the ICCC-3 group
    extended: str  # extended group, "093"
    subgroup_name: str
    extended_name: str


@dataclass(frozen=True)
class _Rule:
    sites: CodeSet
    sites_exclude: CodeSet | None
    histology_exclude: CodeSet | None
    behaviour: frozenset[int]
    result: IcccResult

    def holds(self, histology: int, behaviour: int, topography: int) -> bool:
        return (
            behaviour in self.behaviour
            and topography in self.sites
            and not (self.sites_exclude is not None and topography in self.sites_exclude)
            and not (self.histology_exclude is not None and histology in self.histology_exclude)
        )


class IcccClassifier:
    """Classify (histology, behaviour, topography key) to an ICCC-3 extended group."""

    def __init__(self, definition: schema.IcccFile):
        self.definition = definition
        self.group_names = {g.numeral: g.name for g in definition.groups}
        self.subgroup_names = {s.code: s.name for s in definition.subgroups}
        self.extended_names = {e.code: e.name for e in definition.extended}
        results: dict[str, IcccResult] = {}
        for e in definition.extended:
            if e.subgroup not in self.subgroup_names:
                raise ValueError(f"ICCC-3 extended group {e.code}: no subgroup {e.subgroup!r}")
            results[e.code] = IcccResult(
                group=e.subgroup.rstrip("abcdef"),
                subgroup=e.subgroup,
                extended=e.code,
                subgroup_name=self.subgroup_names[e.subgroup],
                extended_name=e.name,
            )
        candidates: dict[int, list[_Rule]] = {}
        for number, r in enumerate(definition.rules, start=1):
            if r.extended not in results:
                raise ValueError(f"ICCC-3 rule {number}: no extended group {r.extended!r}")
            rule = _Rule(
                sites=topography_set(r.sites),
                sites_exclude=topography_set(r.sites_exclude) if r.sites_exclude else None,
                histology_exclude=(histology_set(r.histology_exclude) if r.histology_exclude else None),
                behaviour=frozenset(r.behaviour),
                result=results[r.extended],
            )
            for lo, hi in histology_set(r.histology).ranges:
                for histology in range(lo, hi + 1):
                    candidates.setdefault(histology, []).append(rule)
        self._by_histology: dict[int, tuple[_Rule, ...]] = {h: tuple(rules) for h, rules in candidates.items()}
        self._cached = lru_cache(maxsize=_CACHE_SIZE)(self._classify)

    def classify(self, histology: int, behaviour: int, topography: int) -> IcccResult | None:
        """The extended group of a tumour; None when no rule holds (ICCC-3 does not classify it).

        `topography` is a key as `partner.lib.icdo.topography_key` makes it ("C74.0" -> 740).
        """
        return self._cached(histology, behaviour, topography)

    def _classify(self, histology: int, behaviour: int, topography: int) -> IcccResult | None:
        for rule in self._by_histology.get(histology, ()):
            if rule.holds(histology, behaviour, topography):
                return rule.result
        return None

    def classifies_histology(self, histology: int) -> bool:
        """Whether any rule names this histology code, at some site and behaviour."""
        return histology in self._by_histology
