"""Cohort selection and the per-child survival table built from the registry's case frame."""

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Literal

import pandas as pd

DAYS_PER_YEAR = 365.25

#: The age groups of paediatric cancer registries, in completed years: [low, high).
AGE_GROUPS: dict[str, tuple[float, float]] = {
    "0-4": (0, 5),
    "5-9": (5, 10),
    "10-14": (10, 15),
    "15-19": (15, 20),
}

#: Follow-up events that end event-free survival, besides death.
EFS_EVENTS = ("relapse", "progression")

AgeGroup = str | tuple[float, float]
DateLike = str | date | pd.Timestamp | None


def _dates(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    return pd.to_datetime(frame[column], errors="coerce")


def age_at_diagnosis(cases: pd.DataFrame) -> pd.Series:
    """Age at diagnosis in years, from the two dates, else from a recorded `age_at_diagnosis`.

    A diagnosis before birth gives NaN rather than a negative age.
    """
    days = (_dates(cases, "diagnosis_date") - _dates(cases, "date_of_birth")).dt.days
    age = days / DAYS_PER_YEAR
    if "age_at_diagnosis" in cases:
        age = age.fillna(pd.to_numeric(cases["age_at_diagnosis"], errors="coerce").astype("float64"))
    return age.astype("float64").where(age >= 0)


def age_group(age: pd.Series, bounds: Mapping[str, tuple[float, float]] = AGE_GROUPS) -> pd.Series:
    """The label of the age group each age falls in (NaN when in none), as an ordered categorical."""
    labels: pd.Series = pd.Series(None, index=age.index, dtype="object")
    for label, (low, high) in bounds.items():
        labels = labels.mask((age >= low) & (age < high) & labels.isna(), label)
    return labels.astype(pd.CategoricalDtype(list(bounds), ordered=True))


def _bounds(group: AgeGroup) -> tuple[float, float]:
    if isinstance(group, str):
        if group not in AGE_GROUPS:
            raise ValueError(f"unknown age group {group!r}: use one of {list(AGE_GROUPS)} or (low, high)")
        return AGE_GROUPS[group]
    low, high = group
    return float(low), float(high)


def _as_set(value: str | Iterable[str] | None) -> set[str] | None:
    if value is None:
        return None
    return {value} if isinstance(value, str) else set(value)


class Cohort:
    """The cases an analysis is about.

    Parameters
    ----------
    entity: a VRT entity code, or several.
    countries: country codes of the registering centres.
    period: (start, end) of the diagnosis date, both inclusive; either may be None.
    age_groups: labels of `AGE_GROUPS` ("0-4", "5-9", "10-14", "15-19") or custom
        (low, high) bounds in years, low included and high excluded.
    sexes, stages: allowed values of `sex` and of `stage_group`.
    treatments: keep cases with at least one treatment line of one of these types.

    Filters left as None select everything; a case whose value is missing fails any filter set
    on that value.

    Examples
    --------
    >>> import pandas as pd
    >>> cases = pd.DataFrame({"case_id": [1, 2], "entity": ["ACC", "NPC"], "country": ["IT", "FR"],
    ...     "date_of_birth": pd.to_datetime(["2010-01-01", "2003-01-01"]),
    ...     "diagnosis_date": pd.to_datetime(["2015-06-01", "2020-06-01"])})
    >>> Cohort(entity="ACC", age_groups=["5-9"]).select(cases)["case_id"].tolist()
    [1]
    """

    def __init__(
        self,
        entity: str | Iterable[str] | None = None,
        countries: Iterable[str] | None = None,
        period: tuple[DateLike, DateLike] | None = None,
        age_groups: Iterable[AgeGroup] | None = None,
        sexes: Iterable[str] | None = None,
        stages: Iterable[str] | None = None,
        treatments: Iterable[str] | None = None,
    ) -> None:
        self.entity = entity
        self.countries = countries
        self.period = period
        self.age_groups = age_groups
        self.sexes = sexes
        self.stages = stages
        self.treatments = treatments

    def select(self, cases: pd.DataFrame, treatment: pd.DataFrame | None = None) -> pd.DataFrame:
        """The rows of `cases` in the cohort; `treatment` is the treatment-line frame, needed when
        filtering by treatment."""
        keep = pd.Series(True, index=cases.index)
        for column, allowed in (
            ("entity", _as_set(self.entity)),
            ("country", _as_set(self.countries)),
            ("sex", _as_set(self.sexes)),
            ("stage_group", _as_set(self.stages)),
        ):
            if allowed is not None:
                keep &= cases[column].astype("object").isin(allowed).to_numpy()
        if self.period is not None:
            start, end = self.period
            diagnosed = _dates(cases, "diagnosis_date")
            if start is not None:
                keep &= (diagnosed >= pd.Timestamp(start)).fillna(False)
            if end is not None:
                keep &= (diagnosed <= pd.Timestamp(end)).fillna(False)
        if self.age_groups is not None:
            age = age_at_diagnosis(cases)
            in_any = pd.Series(False, index=cases.index)
            for low, high in map(_bounds, self.age_groups):
                in_any |= ((age >= low) & (age < high)).fillna(False)
            keep &= in_any
        if self.treatments is not None:
            if treatment is None:
                raise ValueError("selecting by treatment needs the treatment frame")
            lines = treatment[treatment["line_type"].astype("object").isin(set(self.treatments))]
            keep &= cases["case_id"].isin(lines["case_id"].dropna().unique()).to_numpy()
        return cases[keep.to_numpy(dtype=bool)]


_MAIN_STAGE = r"^\s*(IV|III|II|I)(?![IVX])"


def main_stage(stage: pd.Series) -> pd.Series:
    """The main stage, I to IV, of stages written in Roman numerals with their subgroups ("IIIB",
    "IVA", PPB's "Ir"), as an ordered categorical; other and missing values are NaN.

    Survival is compared by main stage: the subgroups of a very rare tumour hold too few children.

    Examples
    --------
    >>> main_stage(pd.Series(["IIIB", "IVA", "I", "Ir", "PRETEXT 2", None])).tolist()
    ['III', 'IV', 'I', 'I', nan, nan]
    """
    main = stage.astype("object").where(stage.notna(), "").astype(str).str.extract(_MAIN_STAGE, expand=False)
    return main.astype(pd.CategoricalDtype(["I", "II", "III", "IV"], ordered=True))


def treatment_pattern(
    cases: pd.DataFrame, treatment: pd.DataFrame, order: Iterable[str], *, none: str = "none"
) -> pd.Series:
    """Each case's combination of treatment types, written in `order` and joined by " + "
    ("surgery + chemotherapy"); `none` for a case with no treatment line. Indexed like `cases`.

    Examples
    --------
    >>> cases = pd.DataFrame({"case_id": [1, 2, 3]})
    >>> lines = pd.DataFrame({"case_id": [1, 1, 2], "line_type": ["chemotherapy", "surgery", "surgery"]})
    >>> treatment_pattern(cases, lines, ["surgery", "chemotherapy"]).tolist()
    ['surgery + chemotherapy', 'surgery', 'none']
    """
    rank = {kind: i for i, kind in enumerate(order)}
    if len(treatment):
        kinds = treatment[["case_id", "line_type"]].dropna().astype({"line_type": "object"}).drop_duplicates()
        kinds = kinds.assign(_rank=kinds["line_type"].map(lambda kind: rank.get(kind, len(rank))))
        joined = kinds.sort_values(["case_id", "_rank", "line_type"]).groupby("case_id")["line_type"].agg(" + ".join)
    else:
        joined = pd.Series(dtype="object")
    patterns = cases["case_id"].astype("object").map(joined).astype("object")
    return pd.Series(patterns.where(patterns.notna(), none).to_numpy(), index=cases.index, dtype="object")


def one_per_child(cases: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Each child's first diagnosis, and how many later cases of the same children were left out.

    A child registered twice (a second tumour, or the same child linked across countries) shares
    one `child_id`; counting both cases would count the child twice in survival. The case with the
    earliest diagnosis date is kept (the lower case_id on a tie, undated cases last). Cases
    without a child_id are each taken as a different child.
    """
    if "child_id" not in cases:
        return cases, 0
    order = cases.assign(_diagnosed=_dates(cases, "diagnosis_date")).sort_values(
        ["_diagnosed", "case_id"], na_position="last", kind="stable"
    )
    known = order["child_id"].notna()
    later = known & order["child_id"].duplicated(keep="first")
    kept = order[~later].drop(columns="_diagnosed").sort_index()
    return kept, int(later.sum())


def survival_table(
    cases: pd.DataFrame,
    follow_up: pd.DataFrame | None = None,
    *,
    endpoint: Literal["overall", "event_free"] = "overall",
    events: Iterable[str] = EFS_EVENTS,
) -> pd.DataFrame:
    """One row per child: `duration` in days from diagnosis and `event` (1 observed, 0 censored).

    Overall survival ends at death (event) or last contact (censored). Event-free survival ends
    at the first follow-up event of a type in `events` (relapse or progression by default) or at
    death, whichever comes first, else at last contact. Each child counts once (see
    `one_per_child`). `age` (years at diagnosis) and `age_group` are added; the case's other
    columns are kept for grouping and covariates.

    Cases with missing or inconsistent dates are dropped: their number is in
    ``.attrs["excluded"]`` and their reasons in ``.attrs["exclusions"]``; later cases of the same
    child are counted in ``.attrs["later_cases"]``.

    Examples
    --------
    >>> import pandas as pd
    >>> cases = pd.DataFrame({"case_id": [1], "child_id": [1], "patient_status": ["dead"],
    ...     "diagnosis_date": pd.to_datetime(["2020-01-01"]), "date_of_death": pd.to_datetime(["2021-01-01"]),
    ...     "last_contact_date": pd.to_datetime(["2020-12-01"])})
    >>> survival_table(cases)[["duration", "event"]].values.tolist()
    [[366, 1]]
    """
    if endpoint not in ("overall", "event_free"):
        raise ValueError(f"endpoint must be 'overall' or 'event_free', not {endpoint!r}")
    children, later_cases = one_per_child(cases)
    diagnosed = _dates(children, "diagnosis_date")
    died_on = _dates(children, "date_of_death")
    last_seen = _dates(children, "last_contact_date")
    status = children.get("patient_status", pd.Series(pd.NA, index=children.index)).astype("object")
    dead = status.isin(["dead"]) | (status.isna() & died_on.notna())

    end = last_seen.where(~dead, died_on)
    event = dead.copy()
    first_event = pd.Series(pd.NaT, index=children.index, dtype="datetime64[ns]")
    if endpoint == "event_free" and follow_up is not None and len(follow_up):
        chosen = follow_up[follow_up["event_type"].astype("object").isin(set(events))]
        dated = chosen.assign(event_date=pd.to_datetime(chosen["event_date"], errors="coerce"))
        firsts = dated.groupby("case_id")["event_date"].min()
        first_event = pd.Series(firsts.reindex(children["case_id"]).to_numpy(), index=children.index)
        earlier = first_event.notna() & (end.isna() | (first_event < end) | ~dead)
        end = end.where(~earlier, first_event)
        event = event | first_event.notna()

    reasons = {
        "no diagnosis date": diagnosed.isna(),
        "diagnosis before birth": (diagnosed < _dates(children, "date_of_birth")).fillna(False),
        "dead without a date of death": dead & died_on.isna(),
        "date of death but not dead": ~dead & died_on.notna(),
        "no last contact date": ~dead & last_seen.isna() & first_event.isna(),
        "last contact after death": dead & (last_seen > died_on).fillna(False),
        "event after death": dead & (first_event > died_on).fillna(False),
        "end before diagnosis": (end < diagnosed).fillna(False) | (first_event < diagnosed).fillna(False),
    }
    excluded = pd.Series(False, index=children.index)
    counts: dict[str, int] = {}
    for reason, mask in reasons.items():
        new = mask.to_numpy(dtype=bool) & ~excluded.to_numpy(dtype=bool)
        if new.any():
            counts[reason] = int(new.sum())
        excluded |= new

    kept = ~excluded.to_numpy(dtype=bool)
    age = age_at_diagnosis(children)
    table = pd.DataFrame(
        {
            "case_id": children["case_id"],
            "duration": (end - diagnosed).dt.days,
            "event": event.astype("int64"),
            "age": age,
            "age_group": age_group(age),
        }
    )
    rest = children.drop(columns=[c for c in table if c in children])
    table = pd.concat([table, rest], axis=1)[kept].reset_index(drop=True)
    table["duration"] = table["duration"].astype("int64")
    table.attrs.update(excluded=int(excluded.sum()), exclusions=counts, later_cases=later_cases)
    return table
