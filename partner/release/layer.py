"""What a viewer may be given of the registry's figures, decided in one place.

    release = Release.for_viewer(request.user)      # or Release.public(), or .downloaded()
    frames = release.frames(entity="ACC")           # the cases this viewer's figures count
    shown = release.counts({"IT": ids_it, "FR": ids_fr}, total=all_ids)

Every figure that leaves the registry (the statistics API, report pages and their CSV files, the
report and evidence-pack PDFs, the public pages) is made from a `Release`: it alone builds the
frames an aggregate is computed from, and it alone turns a set of cases into a number a viewer
reads. The policy it applies depends on the viewer:

- a national or European coordinator (or an administrator) gets exact figures over their own
  scope: their country, or the registry;
- everyone else gets protected figures: a data manager or clinician over their own centre, an
  expert or researcher over the whole registry, the public over the whole registry. Protected
  means counts from 1 to the threshold less one hidden with the cells that would reveal them
  (`partner.analysis.suppression`), every count shown changed a little by the cell key method
  (`cellkey`), survival curves coarsened (`survival`), and cohorts only by fixed bins (whole
  calendar years of diagnosis, the dictionary's age groups, countries, sex, entity, stage);
- a PDF leaves the registry whoever downloads it, so it is always protected (`downloaded`).

A test (`tests/test_boundary.py`) keeps every other module from building case frames for an
aggregate, from suppressing counts itself, and from fitting a survival curve itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd
from django.conf import settings
from django.utils.translation import gettext as _
from lifelines import KaplanMeierFitter
from lifelines.statistics import StatisticalResult, multivariate_logrank_test
from lifelines.utils import median_survival_times

from partner.accounts.models import Role
from partner.accounts.security import is_coordinator
from partner.analysis.cohort import DAYS_PER_YEAR
from partner.analysis.suppression import suppress
from partner.cases.frames import CaseFrames, build_frames
from partner.cases.models import TumourCase
from partner.dictionary.loader import Dictionary

from .cellkey import KEY_SPACE, PerturbationTable, perturbation_table, record_key
from .survival import Curve, exact_curve, released_curve

#: Roles that see no case row but may read protected aggregates of the whole registry.
AGGREGATE_ROLES = {Role.RESEARCHER, Role.EXPERT}
TOTAL = "Total"


class NotReleased(ValueError):
    """A request for figures this viewer may not be given (a free date cut-off, for instance)."""


@dataclass(frozen=True)
class Policy:
    """How figures are released: exact, or protected under `threshold`."""

    exact: bool
    threshold: int

    @property
    def protected(self) -> bool:
        return not self.exact

    @property
    def table(self) -> PerturbationTable:
        return perturbation_table(self.threshold)


def _secret() -> bytes:
    """The key of the record keys, drawn from the pseudonym key: it must stay the same for as long as
    the registry releases figures (a new key would give every count a new change, which averaging
    would then remove), and the pseudonym key is never rotated either."""
    return hmac.new(settings.PSEUDONYM_KEY.encode(), b"partner release: record keys", hashlib.sha256).digest()


class Release:
    """The cases a viewer's figures count and the policy they are released under."""

    def __init__(self, cases: Any, policy: Policy) -> None:
        """`cases`: the queryset counted; None for a release that only counts frames made elsewhere."""
        self._cases = cases
        self.policy = policy
        self._key = _secret()

    @classmethod
    def for_viewer(cls, user: Any, *, drafts: bool = False) -> Release:
        """The release for a signed-in user (see the module's description); `drafts` counts the drafts
        of the viewer's own scope too, as their own work (never in the registry-wide view)."""
        threshold = settings.PARTNER_MIN_CELL_COUNT
        if not user.is_authenticated:
            return cls.public()
        if user.memberships.filter(role__in=AGGREGATE_ROLES).exists() and not user.is_superuser:
            return cls(TumourCase.objects.counted(), Policy(exact=False, threshold=threshold))
        scoped = TumourCase.objects.restrict(user)
        cases = scoped.for_analysis() if drafts else scoped.counted()
        return cls(cases, Policy(exact=is_coordinator(user), threshold=threshold))

    @classmethod
    def public(cls) -> Release:
        """The whole registry, protected: what a visitor of the website sees."""
        return cls(TumourCase.objects.counted(), Policy(exact=False, threshold=settings.PARTNER_MIN_CELL_COUNT))

    @classmethod
    def pooled(cls) -> Release:
        """The whole registry, protected, for a member: the evidence pack, the `partner report` command."""
        return cls.public()

    def downloaded(self) -> Release:
        """The same cases, protected: for what leaves the registry as a file (a PDF)."""
        return Release(self._cases, replace(self.policy, exact=False))

    @property
    def exact(self) -> bool:
        return self.policy.exact

    @property
    def threshold(self) -> int:
        return self.policy.threshold

    # The cases counted

    def frames(self, *, entity: str | None = None, dictionary: Dictionary | None = None) -> CaseFrames:
        """The frames of the cases counted for this viewer (of one entity, if given)."""
        if self._cases is None:
            raise ValueError("this release counts frames made elsewhere (a test's, a bench's): it has no cases")
        cases = self._cases if entity is None else self._cases.filter(entity__code=entity)
        return build_frames(cases, dictionary=dictionary)

    def check_period(self, start: dt.date | None, end: dt.date | None) -> None:
        """Protected figures come only by whole calendar years of diagnosis: two cut-offs a day apart
        would differ by the children diagnosed on that day."""
        if self.exact:
            return
        if (start is not None and (start.month, start.day) != (1, 1)) or (
            end is not None and (end.month, end.day) != (12, 31)
        ):
            raise NotReleased(
                _(
                    "outside the coordinators, figures come by whole calendar years of diagnosis: "
                    "a period starts on 1 January and ends on 31 December"
                )
            )

    # Counts

    def key(self, case_ids: Iterable[int]) -> int:
        """The cell key of a set of cases."""
        return sum(record_key(self._key, int(i)) for i in set(case_ids)) % KEY_SPACE

    def _released(self, count: int, ids: Iterable[int]) -> int:
        return self.policy.table.released(count, self.key(ids)) if count else 0

    def count(self, case_ids: Collection[int]) -> int | None:
        """One count on its own (the size of a cohort): None where hidden."""
        n = len(set(case_ids))
        if self.exact:
            return n
        return None if 0 < n < self.threshold else self._released(n, case_ids)

    def counts(self, cells: Mapping[Hashable, Collection[int]], *, total: Collection[int] | None = None) -> pd.Series:
        """The released counts of the sets of cases in `cells`, as an Int64 series (NA where hidden),
        with a `TOTAL` entry when `total` is given; without it the total is taken as known to readers.
        Each count is the number of distinct cases of its set."""
        sets = {label: set(ids) for label, ids in cells.items()}
        if total is not None:
            sets[TOTAL] = set(total)
        counts = pd.Series({label: len(ids) for label, ids in sets.items()}, dtype="int64")
        if self.exact or not len(counts):
            return counts.astype("Int64")
        if len(counts) == 1:  # a lone count: no table to protect it within
            label = counts.index[0]
            return pd.Series({label: self.count(sets[label])}, dtype="Int64")
        hidden = suppress(counts.to_frame("n"), ["n"], threshold=self.threshold, total=TOTAL).attrs["suppressed"]["n"]
        released = [
            pd.NA if hidden[label] else self._released(int(counts[label]), sets[label]) for label in counts.index
        ]
        return pd.Series(released, index=counts.index, dtype="Int64")

    def crosstab(self, case_ids: pd.Series, rows: pd.Series, columns: pd.Series | None = None) -> pd.DataFrame:
        """Cases counted by `rows` (and by `columns`, with a `TOTAL` column of each row), released:
        an Int64 frame, NA where hidden. The three series share an index; the levels of categorical
        labels are all kept. The column totals are taken as known to readers."""
        by_columns = columns if columns is not None else pd.Series("n", index=rows.index)
        frame = pd.DataFrame({"id": case_ids.astype("int64"), "row": rows, "column": by_columns})
        counts = pd.crosstab(frame["row"], frame["column"], dropna=False)
        if columns is not None:
            counts[TOTAL] = counts.sum(axis=1)
        counts = counts.astype("int64")
        if self.exact or counts.empty:
            return counts.astype("Int64")
        hidden = suppress(counts, list(counts.columns), threshold=self.threshold, total=TOTAL).attrs["suppressed"]
        frame["key"] = frame["id"].map(lambda i: record_key(self._key, int(i))).astype("int64")
        keys = frame.groupby(["row", "column"], observed=False, dropna=False)["key"].sum()
        row_keys = frame.groupby("row", observed=False, dropna=False)["key"].sum()
        released = counts.astype("Int64")
        values = counts.to_numpy(dtype="int64")
        for i, r in enumerate(counts.index):
            for j, c in enumerate(counts.columns):
                n = int(values[i, j])
                if hidden.at[r, c]:
                    released.at[r, c] = pd.NA
                elif n:
                    key = row_keys.get(r, 0) if c == TOTAL and columns is not None else keys.get((r, c), 0)
                    released.at[r, c] = n + self.policy.table.change(n, int(key) % KEY_SPACE)
        return released

    def count_cases(self, field: str, **expressions: Any) -> list[tuple[Any, int | None]]:
        """The viewer's cases counted by a field of the case (``"entity__code"``, ``"centre__country__name"``,
        or a name given an expression: ``count_cases("year", year=ExtractYear("diagnosis_date"))``),
        released, in no particular order; cases without a value are counted under None."""
        return self.count_table(field, **expressions)[0]

    def count_table(self, field: str, **expressions: Any) -> tuple[list[tuple[Any, int | None]], int | None]:
        """`count_cases`, with the released total of the cases that have a value (its margin)."""
        if self._cases is None:
            raise ValueError("this release counts frames made elsewhere: it has no cases")
        ids: dict[Any, list[int]] = {}
        for value, case_id in self._cases.annotate(**expressions).values_list(field, "id").order_by():
            ids.setdefault(value, []).append(case_id)
        values = [value for value in ids if value is not None]  # by position: a value may be spelt like TOTAL
        valued = [case_id for value in values for case_id in ids[value]]
        shown = self.counts({i: ids[value] for i, value in enumerate(values)}, total=valued) if valued else None
        rows = [(value, as_count(shown[i])) for i, value in enumerate(values)] if shown is not None else []
        if None in ids:  # outside the table and its total: a count of its own
            rows.append((None, self.count(ids[None])))
        return rows, as_count(shown[TOTAL]) if shown is not None else 0

    def total_cases(self) -> int | None:
        return self.count(list(self._cases.values_list("id", flat=True)))

    def children(self) -> int | None:
        """The children (patients linked as one child count once) of the viewer's cases."""
        from django.db.models import BigIntegerField
        from django.db.models.functions import Coalesce

        rows = self._cases.annotate(
            child=Coalesce("patient__registry_identity", "patient_id", output_field=BigIntegerField())
        ).values_list("child", "id")
        first: dict[int, int] = {}
        for child, case_id in rows.order_by("id"):
            first.setdefault(child, case_id)
        return self.count(list(first.values()))

    # Survival

    def curve(
        self, case_ids: pd.Series, durations: pd.Series, events: pd.Series, *, alpha: float = 0.05
    ) -> Curve | None:
        """The Kaplan-Meier curve of these children (one case id each) as this viewer may see it; None
        where it may not be drawn."""
        kmf = KaplanMeierFitter(alpha=alpha).fit(durations.astype(float), events.astype(int))
        if self.exact:
            return exact_curve(kmf)
        ids = case_ids.astype("int64").tolist()
        return released_curve(kmf, self.threshold, ids=ids, count=self._released_set, alpha=alpha)

    def _released_set(self, case_ids: Collection[int]) -> int:
        """The released count of a set of cases known to be at least the threshold (a block of a curve)."""
        return self._released(len(set(case_ids)), case_ids)

    def survival(self, table: pd.DataFrame, by: str | None = None, *, years: int = 5) -> SurvivalRelease:
        """Survival of the children of `table` (one row each, with `case_id`, `duration` in days and
        `event`, as `partner.analysis.survival_table` makes it), overall or by the column `by`.

        Each group's size and events are released as tables with their totals; its numbers at risk
        at 0 to `years` years each on its own; its curve as `curve` releases it, and only for a
        group whose size is shown. The log-rank test compares the groups with a curve."""
        present = table if by is None else table[table[by].notna()]
        labels = pd.Series(ALL, index=present.index) if by is None else present[by]
        groups = [
            g
            for g in (
                labels.cat.categories if isinstance(labels.dtype, pd.CategoricalDtype) else sorted(labels.unique())
            )
            if (labels == g).any()
        ]
        members = {g: present.loc[labels == g] for g in groups}
        if by is None:
            sizes = pd.Series({ALL: self.count(present["case_id"])}, dtype="Int64")
            events = pd.Series({ALL: self.count(present.loc[present["event"] == 1, "case_id"])}, dtype="Int64")
        else:
            sizes = self.counts({g: rows["case_id"] for g, rows in members.items()}, total=present["case_id"])
            dead = {g: rows.loc[rows["event"] == 1, "case_id"] for g, rows in members.items()}
            events = self.counts(dead, total=present.loc[present["event"] == 1, "case_id"])
        released = []
        for g, rows in members.items():
            shown = not pd.isna(sizes[g])
            curve = self.curve(rows["case_id"], rows["duration"], rows["event"]) if shown else None
            at_risk = {
                y: self.count(rows.loc[rows["duration"] >= y * DAYS_PER_YEAR, "case_id"]) for y in range(years + 1)
            }
            followup = _followup(rows) if curve is not None else None
            released.append(
                GroupSurvival(g, as_count(sizes[g]), as_count(events[g]), curve, at_risk if shown else {}, followup)
            )
        drawn = [r.group for r in released if r.curve is not None]
        logrank = None
        if by is not None and len(drawn) >= 2:
            compared = present[labels.isin(drawn)]
            logrank = multivariate_logrank_test(compared["duration"], compared[by].astype(str), compared["event"])
        missing = None if by is None else self.count(table.loc[table[by].isna(), "case_id"])
        return SurvivalRelease(released, logrank, missing)


ALL = "all"


def as_count(value: Any) -> int | None:
    """A released count as an int, None where hidden (None, NA or NaN)."""
    return None if value is None or pd.isna(value) else int(value)


def _followup(rows: pd.DataFrame) -> tuple[float, float, float]:
    """Median follow-up by the reverse Kaplan-Meier method (the censored taken as the event), with
    its interval, in days."""
    reverse = KaplanMeierFitter().fit(rows["duration"].astype(float), 1 - rows["event"].astype(int))
    lower, upper = median_survival_times(reverse.confidence_interval_).iloc[0]
    return float(reverse.median_survival_time_), float(lower), float(upper)


@dataclass
class GroupSurvival:
    """One group's survival as released: sizes None where hidden, no curve where none may be drawn."""

    group: Hashable
    n: int | None
    events: int | None
    curve: Curve | None
    at_risk: dict[int, int | None]
    followup: tuple[float, float, float] | None


@dataclass
class SurvivalRelease:
    groups: list[GroupSurvival]
    logrank: StatisticalResult | None
    missing: int | None  # children without a value of the grouping, released
