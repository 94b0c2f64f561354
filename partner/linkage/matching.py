"""Comparing linkage encodings with anonlink: candidate pairs above a threshold, and a 1:1 assignment.

Similarities are Sørensen-Dice coefficients of balanced encodings (partner.linkage.encoding), on
which unrelated children score about 0.5 to 0.6, not 0. The thresholds come from the cases measured
under five keys in partner/linkage/tests/test_similarity.py, and from a synthetic population: 3,000
children whose names follow Zipf frequencies (more concentrated than a real registry's: the commonest
family name is 2 % of children), 1,300 of them registered a second time with one kind of error each,
and 300 pairs of twins, 4.8 million pairs in all.

- LIKELY_THRESHOLD, 0.90: nothing is linked without a person's decision, but the review queue marks
  the pairs at or above it as very likely the same child. At or above it are all names typed the
  wrong way round (lowest 0.93), a wrong sex or a missing country, and 99 % of single typing errors
  in a name (the lowest, two letters swapped in a short name, 0.90); about half of the wrong days, months or years of
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

Every pair, on every core. `partner link run` compares each new encoding with every encoding of the
registry, so nothing is missed for the way it was typed. The comparisons are split into anonlink's
chunks (`anonlink.concurrency.split_to_chunks`) over one process per core; each pair is still
compared once and the result is the same as one call's. `make bench` measures 100,000 x 100,000.

Blocking, for a registry too large for that. Given the dates of birth (which the registry holds in
any case; the review page shows their year and month), `candidate_pairs` can compare only children
who share the year, the month or the day of birth: anonlink's blocking, with one block per year, per
month and per day (`partner link run --blocked`). Over children born across 25 years, about a sixth
of the pairs are compared (1/25 + 1/12 + 1/31). A wrong day, month or year, two of them swapped, or a
wrong century still share a block; a date wrong in all three parts is missed. Such a pair scores
0.60 to 0.87 when the names agree (long names hide more of the date's bits), so some of them would
have reached the review; in FEBRL's test data, where 3.6 % of the duplicates carry a wholly other
date, blocking loses them (`make bench` prints both).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
from array import array
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any

from anonlink.candidate_generation import find_candidate_pairs
from anonlink.concurrency import split_to_chunks
from anonlink.similarities import dice_coefficient
from anonlink.solving import greedy_solve, pairs_from_groups
from bitarray import bitarray

#: At or above it, a pair is very probably the same child, and the review queue says so (see above).
LIKELY_THRESHOLD = 0.90
#: At or above it, a pair deserves a person's review: changed family names and twins are found here.
REVIEW_THRESHOLD = 0.74


def dice(a: bitarray, b: bitarray) -> float:
    """Sørensen-Dice similarity of two encodings of the same length: 2 |a & b| / (|a| + |b|)."""
    if len(a) != len(b):
        raise ValueError("encodings of different lengths (another schema?) cannot be compared")
    total = a.count() + b.count()
    return 2 * (a & b).count() / total if total else 0.0


Births = tuple[Sequence[dt.date | None], Sequence[dt.date | None]]

#: Comparisons per chunk when the work is split over processes: about 5,000 x 5,000 encodings, the
#: fastest size measured between 2,000 x 2,000 and 20,000 x 20,000.
CHUNK_COMPARISONS = 25_000_000


def candidate_pairs(
    new: Sequence[bitarray],
    existing: Sequence[bitarray],
    threshold: float,
    births: Births | None = None,
    *,
    workers: int = 1,
) -> list[tuple[int, int, float]]:
    """Every pair (index in `new`, index in `existing`, similarity) at or above `threshold`, best first.

    With `births`, the dates of birth of `new` and of `existing` in the same order, only pairs that
    share the year, the month or the day of birth are compared (see the module's documentation);
    without, every pair. With `workers` above 1, the comparisons are shared among that many
    processes, forked from this one, with the same result. All encodings must have the same length,
    a multiple of 8 bits, as the schema's always are.
    """
    if not new or not existing:
        return []
    if workers > 1 and len(new) * len(existing) > CHUNK_COMPARISONS:
        return _in_processes(new, existing, threshold, births, workers)
    blocking = None if births is None else birth_blocking(*births)
    sims, _datasets, (left, right) = find_candidate_pairs(
        [new, existing], dice_coefficient, threshold, blocking_f=blocking
    )
    return [(int(i), int(j), float(s)) for s, i, j in zip(sims, left, right, strict=True)]


# What the forked processes compare: set before the pool is made, inherited by each process without
# being pickled (100,000 encodings are 25 MB), cleared afterwards.
_SHARED: tuple[Sequence[bitarray], Sequence[bitarray], float, Births | None] | None = None


def _compare_chunk(chunk: Sequence[dict[str, Any]]) -> list[tuple[int, int, float]]:
    assert _SHARED is not None
    new, existing, threshold, births = _SHARED
    (a0, a1), (b0, b1) = chunk[0]["range"], chunk[1]["range"]
    part_births = None if births is None else (births[0][a0:a1], births[1][b0:b1])
    found = candidate_pairs(new[a0:a1], existing[b0:b1], threshold, part_births)
    return [(i + a0, j + b0, s) for i, j, s in found]


def _in_processes(
    new: Sequence[bitarray], existing: Sequence[bitarray], threshold: float, births: Births | None, workers: int
) -> list[tuple[int, int, float]]:
    global _SHARED
    chunks = list(split_to_chunks(CHUNK_COMPARISONS, dataset_sizes=(len(new), len(existing))))
    _SHARED = (new, existing, threshold, births)
    try:
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.map(_compare_chunk, chunks, chunksize=1)
    finally:
        _SHARED = None
    return sorted((p for part in parts for p in part), key=lambda p: (-p[2], p[0], p[1]))


def birth_blocking(
    *births: Sequence[dt.date | None],
) -> Callable[[int, int, object], Iterable[Hashable]]:
    """anonlink's blocking function for datasets whose dates of birth are `births`, one sequence each.

    A dated record is in the blocks of its year, its month and its day; an undated one in the block of
    the undated and in every year's block, so that it meets every record once at least.
    """
    years = sorted({born.year for dates in births for born in dates if born is not None})
    undated: tuple[Hashable, ...] = ("?", *(("y", year) for year in years))

    def blocks(dataset: int, record: int, _encoding: object) -> Iterable[Hashable]:
        born = births[dataset][record]
        if born is None:
            return undated
        return (("y", born.year), ("m", born.month), ("d", born.day))

    return blocks


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
