"""The cell key method: a small change to every count released, the same each time for the same cases.

Each case gets a record key, a 32-bit number drawn from the case's id by a keyed hash, so nobody
without the key can work it out. A count's cell key is the sum of the record keys of the cases it
counts, modulo 2**32: it depends on the set of cases and on nothing else (not on the query that
asked for it, nor on the order of the rows). The cell key picks the change to the count from a
perturbation table, so

- the same set of cases is always released as the same number, however often and by whichever
  query it is asked for: repeating a query and averaging the answers gains nothing;
- two sets that differ by one case have unrelated cell keys, so their released counts differ by
  the true difference plus the difference of two independent changes: subtracting them no longer
  gives the exact count of the cases between them.

This is the method the statistical offices of the European Union used for the 2021 census tables
(Eurostat's recommendations on the protection of census tables; the Australian Bureau of
Statistics' TableBuilder before them). The perturbation table is built as theirs are: for each
count, the distribution of changes with the largest entropy whose mean is zero (no bias) and whose
variance is `VARIANCE`, over the changes from -`MAX_CHANGE` to +`MAX_CHANGE` that keep the released
count at the threshold or above (a count shown is never shown as a small one).

Zero is never changed: an empty cell identifies nobody, and turning it into a count would invent
children. Counts from 1 to the threshold less one are not released at all (see
`partner.analysis.suppression`, applied to the true counts before the change).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
from scipy.optimize import minimize

#: The largest change to a count, either way.
MAX_CHANGE = 2
#: The variance of the change of a count well above the threshold.
VARIANCE = 1.0
#: Record and cell keys are integers modulo this.
KEY_SPACE = 2**32


@lru_cache(maxsize=2**18)
def record_key(secret: bytes, case_id: int) -> int:
    """The record key of a case: 32 bits of HMAC-SHA256 of its id under `secret`."""
    digest = hmac.new(secret, f"case:{int(case_id)}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:4], "big")


def cell_key(secret: bytes, case_ids: Iterable[int]) -> int:
    """The cell key of a set of cases: the sum of their record keys modulo 2**32 (each case once)."""
    return sum(record_key(secret, case_id) for case_id in set(case_ids)) % KEY_SPACE


def _max_entropy(changes: np.ndarray, variance: float) -> np.ndarray:
    """The probabilities over `changes` with the largest entropy, mean zero and the given variance.

    They have the form exp(a*k + b*k**2) / Z; (a, b) minimise the convex dual log Z - b*variance,
    whose gradient is (mean, mean of squares - variance).
    """

    def dual(ab: np.ndarray) -> tuple[float, np.ndarray]:
        exponent = ab[0] * changes + ab[1] * changes**2
        top = exponent.max()
        weights = np.exp(exponent - top)
        z = weights.sum()
        p = weights / z
        value = top + np.log(z) - ab[1] * variance
        return float(value), np.array([p @ changes, p @ changes**2 - variance])

    solved = minimize(dual, np.zeros(2), jac=True, method="BFGS", options={"gtol": 1e-12, "maxiter": 1000})
    exponent = solved.x[0] * changes + solved.x[1] * changes**2
    p = np.exp(exponent - exponent.max())
    return p / p.sum()


@dataclass(frozen=True)
class PerturbationTable:
    """For each count from the threshold up, the changes it may get and their probabilities.

    Counts of `threshold + max_change` or more all share the symmetric row of the last count.
    """

    threshold: int
    max_change: int
    variance: float
    rows: tuple[tuple[np.ndarray, np.ndarray], ...]  # (changes, cumulative probabilities) from the threshold up

    def row(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        if count < self.threshold:
            raise ValueError(f"a count of {count} is below the threshold of {self.threshold} and is not released")
        return self.rows[min(count - self.threshold, len(self.rows) - 1)]

    def change(self, count: int, key: int) -> int:
        """The change the table gives `count` for a cell key in [0, 2**32); 0 for a zero count."""
        if count == 0:
            return 0
        changes, cumulative = self.row(count)
        position = (key % KEY_SPACE) / KEY_SPACE
        return int(changes[min(int(np.searchsorted(cumulative, position, side="right")), len(changes) - 1)])

    def released(self, count: int, key: int) -> int:
        return count + self.change(count, key)

    def probabilities(self, count: int) -> dict[int, float]:
        """The distribution of the change of `count`, for the documentation and the tests."""
        changes, cumulative = self.row(count)
        return dict(zip(changes.tolist(), np.diff(cumulative, prepend=0.0).tolist(), strict=True))


@cache
def perturbation_table(threshold: int, max_change: int = MAX_CHANGE, variance: float = VARIANCE) -> PerturbationTable:
    """The table for a threshold; built once per process (a few milliseconds)."""
    if threshold < 1 or max_change < 0 or variance < 0:
        raise ValueError("the threshold must be 1 or more, the largest change and the variance 0 or more")
    rows = []
    for above in range(max_change + 1):  # counts threshold, threshold + 1, ..., threshold + max_change
        changes = np.arange(-min(above, max_change), max_change + 1)
        lowest = -int(changes[0])
        if lowest == 0 or max_change == 0 or variance == 0:  # only a change of zero keeps the mean at zero
            p = (changes == 0).astype(float)
        else:  # the variance a mean of zero allows on these changes is at most lowest * max_change
            p = _max_entropy(changes.astype(float), min(variance, 0.95 * lowest * max_change))
        cumulative = np.cumsum(p)
        cumulative[-1] = 1.0
        rows.append((changes, cumulative))
    return PerturbationTable(threshold, max_change, variance, tuple(rows))
