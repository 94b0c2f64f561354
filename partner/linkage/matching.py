"""Comparing linkage encodings with anonlink: candidate pairs above a threshold, and a 1:1 assignment.

Similarities are Sørensen-Dice coefficients of balanced encodings (partner.linkage.encoding), on
which unrelated children score about 0.5 to 0.6, not 0. The thresholds come from the cases measured
under five keys in partner/linkage/tests/test_similarity.py, and from a synthetic population: 3,000
children whose names follow Zipf frequencies (more concentrated than a real registry's: the commonest
family name is 2 % of children), 1,300 of them registered a second time with one kind of error each,
and 300 pairs of twins, 4.8 million pairs in all.

- DEFAULT_THRESHOLD, 0.90, the automatic one: at or above it are all names typed the wrong way round
  (lowest 0.93), a wrong sex or a missing country, and 99 % of single typing errors in a name (the
  lowest, two letters swapped in a short name, 0.90); about half of the wrong days, months or years of
  birth. Below it are all changed family names (highest 0.89), 97 % of twins (those above have given
  names a letter or two apart, like Anna and Hanna, which no encoding of names tells from a typing
  error), another child with the same names born on another date (unless only the day, the month or
  the year differs: that is also what a wrong date looks like, and it scores about 0.90), and every
  unrelated pair (highest 0.86). Typing errors and twins differ by only a few bigrams, so the margins
  are thin (about 0.01 each side).
- REVIEW_THRESHOLD, 0.74, for a person's review: at or above it are 99.8 % of the second
  registrations (a changed family name after an adoption or a parent's marriage scores 0.73 to 0.89)
  and 99 % of twins, with 212 other pairs of the 4.8 million, mostly children with the same given name
  born the same day or with the same names born another day. Unrelated children born the same day in
  the same country with other names stay below it (about 0.70).
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
#: At or above it, a pair deserves a person's review: changed family names and twins are found here.
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
