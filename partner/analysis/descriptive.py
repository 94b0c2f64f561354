"""The descriptive table of a cohort: who the children are, overall and by group."""

import numpy as np
import pandas as pd

from .cohort import age_at_diagnosis, age_group

#: The categorical variables described, in the order they are shown.
VARIABLES = ("sex", "age_group", "country", "stage_group", "metastatic_at_diagnosis")
MISSING = "missing"
ALL = "all"


def _levels(column: pd.Series) -> list[str]:
    if isinstance(column.dtype, pd.CategoricalDtype):
        levels = [str(c) for c in column.cat.categories]
    else:
        levels = sorted(column.dropna().astype(str).unique())
    return [*levels, MISSING] if column.isna().any() else levels


def _as_text(column: pd.Series) -> pd.Series:
    return column.astype("object").map(lambda v: MISSING if pd.isna(v) else str(v))


def _describe_one(
    rows_in: pd.Index, columns: dict[str, pd.Series], levels: dict[str, list[str]], age: pd.Series
) -> pd.DataFrame:
    total = len(rows_in)
    rows: list[tuple[str, str, float, float]] = [("cases", "n", total, 100.0 if total else np.nan)]
    for variable, column in columns.items():
        counts = column.loc[rows_in].value_counts()
        for level in levels[variable]:
            n = int(counts.get(level, 0))
            rows.append((variable, level, n, 100.0 * n / total if total else np.nan))
    ages = age.loc[rows_in].dropna()
    for label, q in (("median", 0.5), ("q1", 0.25), ("q3", 0.75)):
        rows.append(("age at diagnosis (years)", label, float(ages.quantile(q)) if len(ages) else np.nan, np.nan))
    rows.append(("age at diagnosis (years)", MISSING, total - len(ages), np.nan))
    table = pd.DataFrame(rows, columns=["variable", "level", "value", "percent"])
    return table.set_index(["variable", "level"])


def describe(cases: pd.DataFrame, by: str | None = None) -> pd.DataFrame:
    """Counts and percentages of sex, age group, country, stage group and metastases at diagnosis,
    with the median and interquartile range of age at diagnosis.

    Every row of `cases` is counted: pass ``one_per_child(cases)[0]`` to count children rather
    than tumours. Missing values are a level of their own ("missing") so that each variable's
    percentages add up to 100 and gaps in the data stay visible. Variables absent from `cases`
    are left out.

    Parameters
    ----------
    cases: the case frame (or a cohort selected from it).
    by: a column to group by; each group gets its own columns next to the "all" column.

    Returns
    -------
    A DataFrame indexed by (variable, level) with columns (group, "value") and
    (group, "percent"). For counts `value` is the number of cases; for age it is the median,
    first (q1) or third (q3) quartile in years, with no percent.

    Examples
    --------
    >>> import pandas as pd
    >>> cases = pd.DataFrame({"sex": ["female", "male", "female"], "country": ["IT", "IT", "FR"]})
    >>> round(float(describe(cases).loc[("sex", "female"), ("all", "percent")]), 1)
    66.7
    """
    age = age_at_diagnosis(cases)
    raw = {v: age_group(age) if v == "age_group" else cases[v] for v in VARIABLES if v == "age_group" or v in cases}
    levels = {v: _levels(column) for v, column in raw.items()}
    columns = {v: _as_text(column) for v, column in raw.items()}
    parts = {ALL: _describe_one(cases.index, columns, levels, age)}
    if by is not None:
        by_column = raw[by] if by in raw else cases[by]
        groups = _as_text(by_column)
        for level in _levels(by_column):
            parts[level] = _describe_one(cases.index[groups == level], columns, levels, age)
    return pd.concat(parts, axis=1)
