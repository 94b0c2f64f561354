"""The registry's classifier: ICD-O-3 codes and age to ICCC-3 and a very rare tumour entity.

A tumour's ICCC-3 group comes from the ICCC-3 rules (see `iccc`); its entity is the first entity,
in the order of the dictionary, with a match rule that holds. Whether it is a very rare tumour
(VRT) follows from the entity's incidence and the age at diagnosis; each answer carries a reason
written for a data manager.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from partner.lib.icdo import (
    BEHAVIOURS,
    CodeError,
    CodeSet,
    Morphology,
    format_topography,
    histology_set,
    parse_morphology,
    topography_key,
    topography_set,
)

from . import schema
from .iccc import IcccClassifier, IcccResult

PAEDIATRIC_MAX_AGE = 17  # ages 0-17 inclusive at diagnosis are in the registry's range by default
OLDEST_AGE = 120  # an age above this is a data error, not a patient

_CACHE_SIZE = 1 << 16


@dataclass(frozen=True)
class Classification:
    morphology: str  # normalised, "8370/3"
    topography: str  # normalised, "C74.0"
    age_years: float | None
    iccc_group: str | None  # ICCC-3 diagnostic subgroup, "XIa"
    iccc_group_name: str | None
    iccc_extended: str | None  # "093"
    iccc_extended_name: str | None
    entity: str | None  # entity code, "ACC"
    entity_name: str | None  # English name
    vrt: bool  # a very rare tumour by incidence, at an age in the registry's range
    expert_scope: bool  # in EXPeRT scope, at an age in the registry's range
    reason: str  # one sentence: why it is or is not a very rare tumour


@dataclass(frozen=True)
class _Match:
    morphology: CodeSet | None
    behaviour: frozenset[int]
    topography: CodeSet | None
    topography_exclude: CodeSet | None
    iccc_extended: frozenset[str] | None

    @classmethod
    def compile(cls, rule: schema.MatchRule) -> _Match:
        return cls(
            morphology=histology_set(rule.morphology) if rule.morphology is not None else None,
            behaviour=frozenset(rule.behaviour),
            topography=topography_set(rule.topography) if rule.topography is not None else None,
            topography_exclude=(
                topography_set(rule.topography_exclude) if rule.topography_exclude is not None else None
            ),
            iccc_extended=frozenset(rule.iccc_extended) if rule.iccc_extended is not None else None,
        )

    def holds(self, histology: int, behaviour: int, topography: int, extended: str | None) -> bool:
        return (
            behaviour in self.behaviour
            and (self.morphology is None or histology in self.morphology)
            and (self.topography is None or topography in self.topography)
            and (self.topography_exclude is None or topography not in self.topography_exclude)
            and (self.iccc_extended is None or extended in self.iccc_extended)
        )


@dataclass(frozen=True)
class _Codes:
    """What follows from the codes alone, before the age is considered."""

    morphology: str
    topography: str
    iccc: IcccResult | None
    entity: schema.Entity | None
    label: str  # how the reasons name the tumour and its ICCC-3 group
    reason: str  # when the age is in range
    reason_age_unknown: str


def _lower_first(name: str) -> str:
    """Lower-case the first letter to use a name mid-sentence, unless it starts an acronym (NUT)."""
    if len(name) > 1 and name[0].isupper() and name[1].islower():
        return name[0].lower() + name[1:]
    return name


class Classifier:
    def __init__(
        self,
        iccc: schema.IcccFile,
        entities: Iterable[schema.Entity],
        max_age: float = PAEDIATRIC_MAX_AGE,
    ):
        if not 0 <= max_age <= OLDEST_AGE:
            raise ValueError(f"max_age {max_age} must lie between 0 and {OLDEST_AGE}")
        self.iccc = IcccClassifier(iccc)
        self.entities = list(entities)
        self.max_age = max_age
        self._matches = [tuple(_Match.compile(r) for r in e.match) for e in self.entities]
        # Entities worth trying for a histology, in list order: those naming it in a rule, and
        # those with a rule that names no histology at all.
        any_histology = {i for i, rules in enumerate(self._matches) if any(r.morphology is None for r in rules)}
        named: dict[int, set[int]] = {}
        for i, rules in enumerate(self._matches):
            for rule in rules:
                if rule.morphology is None:
                    continue
                for lo, hi in rule.morphology.ranges:
                    for histology in range(lo, hi + 1):
                        named.setdefault(histology, set()).add(i)
        self._candidates = {h: tuple(sorted(found | any_histology)) for h, found in named.items()}
        self._any_histology = tuple(sorted(any_histology))
        self._codes = lru_cache(maxsize=_CACHE_SIZE)(self._read_codes)

    @property
    def age_range(self) -> str:
        return f"0-{self.max_age:g} years"

    def classify(self, morphology: str, topography: str, age_years: float | None = None) -> Classification:
        """Classify one tumour; raises CodeError on an invalid code or an impossible age."""
        codes = self._codes(morphology, topography)
        age = self._check_age(age_years)
        iccc, entity = codes.iccc, codes.entity
        if age is None:
            in_range, reason = True, codes.reason_age_unknown
        elif math.floor(age) <= self.max_age:
            in_range, reason = True, codes.reason
        else:
            in_range, reason = False, self._out_of_range(codes, age)
        return Classification(
            morphology=codes.morphology,
            topography=codes.topography,
            age_years=age,
            iccc_group=iccc.subgroup if iccc else None,
            iccc_group_name=iccc.subgroup_name if iccc else None,
            iccc_extended=iccc.extended if iccc else None,
            iccc_extended_name=iccc.extended_name if iccc else None,
            entity=entity.code if entity else None,
            entity_name=entity.names.en if entity else None,
            vrt=entity is not None and entity.incidence_vrt and in_range,
            expert_scope=entity is not None and entity.expert_scope and in_range,
            reason=reason,
        )

    def match_entity(
        self, histology: int, behaviour: int, topography: int, extended: str | None
    ) -> schema.Entity | None:
        """The first entity, in list order, with a match rule that holds."""
        for i in self._candidates.get(histology, self._any_histology):
            if any(r.holds(histology, behaviour, topography, extended) for r in self._matches[i]):
                return self.entities[i]
        return None

    def _read_codes(self, morphology: str, topography: str) -> _Codes:
        m = parse_morphology(morphology)
        site = topography_key(topography)
        topo = format_topography(site)
        iccc = self.iccc.classify(m.histology, m.behaviour, site)
        entity = self.match_entity(m.histology, m.behaviour, site, iccc.extended if iccc else None)
        if entity is None:
            reason = self._without_entity(m, topo, iccc)
            return _Codes(str(m), topo, iccc, None, "", reason, reason)
        where = f"{iccc.subgroup}, {iccc.extended}" if iccc else "not classified by ICCC-3"
        label = f"{_lower_first(entity.names.en)} ({where})"
        if entity.incidence_vrt and entity.expert_scope:
            reason = f"{label}: a very rare tumour in EXPeRT scope"
        elif entity.incidence_vrt:
            reason = (
                f"{label}: a very rare tumour by incidence, but treated within its own clinical "
                "protocols, outside EXPeRT scope"
            )
        elif entity.expert_scope:
            reason = f"{label}: not a very rare tumour by incidence, but in EXPeRT scope"
        else:
            reason = f"{label} is not a very rare tumour"
            return _Codes(str(m), topo, iccc, entity, label, reason, reason)
        unknown = f"{reason}; the age at diagnosis is unknown, so the range {self.age_range} was not checked"
        return _Codes(str(m), topo, iccc, entity, label, reason, unknown)

    @staticmethod
    def _check_age(age_years: float | None) -> float | None:
        if age_years is None:
            return None
        try:
            age = float(age_years)
        except (TypeError, ValueError):
            raise CodeError(f"age {age_years!r} is not a number of years") from None
        if not math.isfinite(age) or age < 0 or age > OLDEST_AGE:
            raise CodeError(
                f"age {age_years!r} is not a possible age at diagnosis: "
                f"expected a number of years between 0 and {OLDEST_AGE}"
            )
        return age

    def _out_of_range(self, codes: _Codes, age: float) -> str:
        entity = codes.entity
        if entity is None or not (entity.incidence_vrt or entity.expert_scope):
            return codes.reason  # the age changes nothing
        counted = "registered as a very rare tumour" if entity.incidence_vrt else "in EXPeRT scope"
        return (
            f"age {age:g} is outside the registry's paediatric range ({self.age_range}): "
            f"{codes.label} is {counted} only within that range"
        )

    def _without_entity(self, m: Morphology, topography: str, iccc: IcccResult | None) -> str:
        if iccc is not None:
            return (
                f"{m} at {topography} is classified in ICCC-3 {iccc.subgroup}, {iccc.extended} "
                f"({_lower_first(iccc.extended_name)}) and matches none of the registry's very "
                "rare tumour entities"
            )
        b = m.behaviour
        if b == 6:
            return (
                f"{m} is a metastasis: ICCC-3 classifies the primary tumour, so record its morphology with behaviour 3"
            )
        if b == 9:
            return f"{m} is uncertain whether primary or metastatic: ICCC-3 does not classify it"
        if b == 2:
            return f"{m} is not malignant (in situ): ICCC-3 does not classify it"
        if b != 3:
            word = "of uncertain behaviour" if b == 1 else BEHAVIOURS[b]
            return (
                f"{m} is not malignant ({word}): ICCC-3 classifies non-malignant tumours only "
                "among the intracranial and intraspinal neoplasms"
            )
        if not self.iccc.classifies_histology(m.histology):
            return f"{m} is not classified by ICCC-3: none of its groups takes histology {m.histology}"
        return (
            f"{m} at {topography} is not classified by ICCC-3: histology {m.histology} "
            "is classified only at other sites"
        )
