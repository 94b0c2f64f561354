"""Comparing linkage encodings with anonlink: candidate pairs above a threshold, and a 1:1 assignment.

Similarities are Sørensen-Dice coefficients of balanced encodings (partner.linkage.encoding), where
unrelated children score about 0.55 to 0.65 rather than 0. The two thresholds come from the cases
measured in partner/linkage/tests/test_encoding.py and from a synthetic population of 2,000
children with Zipf-distributed names, a typing error, swap or change in 1,000 second registrations,
and 300 pairs of twins:

- DEFAULT_THRESHOLD, 0.90: one wrong, missing, extra or swapped letter in a name, given and family
  names typed the wrong way round, and a wrong day of birth all score above it (lowest 0.90, for two
  letters swapped in a short name); twins with different given names score below it (highest 0.89,
  unless the given names differ by a letter or two, like Anna and Hanna, which no encoding of names
  can tell from a typing error), and so does another child with the same names and birth year. Above
  it a pair is almost certainly the same child; no unrelated pair of the population reached it.
- REVIEW_THRESHOLD, 0.72: a changed family name (adoption, a parent's marriage; 0.74 to 0.81), a
  second family name added or dropped, a wrong month or year of birth score above it, as do twins:
  a person tells them apart. Unrelated children stay below it (highest 0.70, for the same date of
  birth, sex and country and similar names).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence

from anonlink.candidate_generation import find_candidate_pairs
from anonlink.similarities import dice_coefficient
from anonlink.solving import greedy_solve, pairs_from_groups
from bitarray import bitarray

#: At or above it, a pair is very probably the same child (see the module's documentation).
DEFAULT_THRESHOLD = 0.90
#: At or above it, a pair deserves a person's review: a changed family name or twins live here.
REVIEW_THRESHOLD = 0.74


def dice(a: bitarray, b: bitarray) -> float:
    """Sørensen-Dice similarity of two encodings of the same length: 2 |a & b| / (|a| + |b|)."""
    if len(a) != len(b):
        raise ValueError("encodings of different lengths (another schema?) cannot be compared")
    total = a.count() + b.count()
    return 2 * (a & b).count() / total if total else 0.0


def candidate_pairs(
    new: Sequence[bitarray], existing: Sequence[bitarray], threshold: float
) -> list[tuple[int, int, float]]:
    """Every pair (index in `new`, index in `existing`, similarity) at or above `threshold`, best first.

    All encodings must have the same length, a multiple of 8 bits, as the schema's always are.
    """
    if not new or not existing:
        return []
    sims, _datasets, (left, right) = find_candidate_pairs([new, existing], dice_coefficient, threshold)
    return [(int(i), int(j), float(s)) for s, i, j in zip(sims, left, right, strict=True)]


def one_to_one(pairs: Iterable[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """Keep each record in at most one pair, taking the most similar pairs first (anonlink's greedy solver)."""
    ordered = sorted(pairs, key=lambda p: (-p[2], p[0], p[1]))
    similarity = {(i, j): s for i, j, s in ordered}
    candidates = (
        array("d", [s for _, _, s in ordered]),
        (array("I", [0] * len(ordered)), array("I", [1] * len(ordered))),
        (array("I", [i for i, _, _ in ordered]), array("I", [j for _, j, _ in ordered])),
    )
    chosen = pairs_from_groups(greedy_solve(candidates))
    return sorted(((i, j, similarity[i, j]) for i, j in chosen), key=lambda p: (-p[2], p[0], p[1]))
