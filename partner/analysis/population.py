"""Population denominators from Eurostat's population by age and sex tables.

Two download formats are read:

- the bulk TSV (``demo_pjan``, ``demo_pjangroup``, optionally gzipped): a first column such as
  ``freq,unit,age,sex,geo\\TIME_PERIOD`` holding comma-joined codes, then one column per year whose
  values carry optional flags (``"1234 p"``) or ``":"`` when missing;
- SDMX-CSV: one observation per line with the dimension columns, ``TIME_PERIOD``, ``OBS_VALUE``
  and ``OBS_FLAG`` (cells written as ``code:label`` are read by their code).

Only paediatric ages, 0 to 19, are kept: single years (``Y_LT1``, ``Y1`` … ``Y19``) and bands
(``Y_LT5``, ``Y5-9`` … ``Y15-19``). ``TOTAL``, ``UNK``, ``Y_OPEN`` and bands reaching 20 or more
are left out, and so are missing values. Eurostat writes Greece ``EL`` and the United Kingdom
``UK``; they become ISO 3166 ``GR`` and ``GB`` like the registry's countries.
"""

from __future__ import annotations

import gzip
import io
import re
from os import PathLike
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

PAEDIATRIC_AGES = range(20)
COLUMNS = ["country", "year", "sex", "age", "age_width", "population"]

_ISO_COUNTRY = {"EL": "GR", "UK": "GB"}
_SEXES = {"F", "M", "T"}
_DROPPED_AGES = {"TOTAL", "UNK", "Y_OPEN"}
_VALUE = re.compile(r"^(?P<number>\d+(?:\.\d+)?)(?:\s*[a-z]+)?$")
_MISSING = re.compile(r"^:(?:\s*[a-z]+)?$")

Source = str | PathLike[str] | IO[str] | IO[bytes]


def read_eurostat(path_or_buffer: Source) -> pd.DataFrame:
    """Read a Eurostat population by age and sex table, bulk TSV or SDMX-CSV.

    Parameters
    ----------
    path_or_buffer
        A path (``.gz`` is uncompressed) or an open text or binary file.

    Returns
    -------
    DataFrame
        One row per country, year, sex and age group, sorted, with columns ``country`` (ISO 3166
        code), ``year`` (int), ``sex`` (``F``, ``M`` or ``T``), ``age`` (the first year of age),
        ``age_width`` (1 for a single year, 5 for a five-year band) and ``population`` (float,
        the population on 1 January).

    Raises
    ------
    ValueError
        For a file of another shape, an unknown code or value, or ages counted twice; the message
        names the file and the line.

    Examples
    --------
    >>> import io
    >>> text = "freq,unit,age,sex,geo\\\\TIME_PERIOD\\t2022 \\t2023 \\nA,NR,Y1,T,IT\\t400 \\t390 p\\n"
    >>> read_eurostat(io.StringIO(text)).population.tolist()
    [400.0, 390.0]
    """
    name, text = _read_text(path_or_buffer)
    first_line = text.split("\n", 1)[0]
    if "\\" in first_line.split("\t", 1)[0]:
        long = _long_from_tsv(text, name)
    elif "OBS_VALUE" in first_line.upper() and "TIME_PERIOD" in first_line.upper():
        long = _long_from_sdmx_csv(text, name)
    else:
        raise ValueError(
            f"{name}, line 1: not a Eurostat table; expected a bulk TSV header such as "
            f"'freq,unit,age,sex,geo\\TIME_PERIOD' or SDMX-CSV columns with TIME_PERIOD and OBS_VALUE"
        )
    return _tidy(long, name)


def _read_text(source: Source) -> tuple[str, str]:
    if isinstance(source, str | PathLike):
        path = Path(source)
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8-sig") as handle:
            return str(path), handle.read()
    name = str(getattr(source, "name", "<buffer>"))
    content = source.read()
    if isinstance(content, bytes):
        if content[:2] == b"\x1f\x8b":
            content = gzip.decompress(content)
        content = content.decode("utf-8-sig")
    return name, content.lstrip("\ufeff").replace("\r\n", "\n")


def _long_from_tsv(text: str, name: str) -> pd.DataFrame:
    """One row per observation: the dimension codes, year, raw value and line number."""
    try:
        wide = pd.read_csv(io.StringIO(text), sep="\t", dtype=str, keep_default_na=False)
    except pd.errors.ParserError as error:
        raise ValueError(f"{name}: {error}") from error
    key_column = wide.columns[0]
    dimensions = [part.strip().lower() for part in key_column.split("\\")[0].split(",")]
    _require(dimensions, name, line=1)
    years = [column.strip() for column in wide.columns[1:]]
    if not years or not all(year.isdigit() for year in years):
        raise ValueError(f"{name}, line 1: expected one column per year, found {years!r}")
    wide.columns = ["key", *years]
    wide["line"] = np.arange(len(wide)) + 2
    short = wide[years].isna().any(axis=1)
    if short.any():
        raise ValueError(f"{name}, line {wide.line[short].iloc[0]}: fewer values than years")
    bad = wide["key"].str.count(",") != len(dimensions) - 1
    if bad.any():
        raise ValueError(
            f"{name}, line {wide.line[bad].iloc[0]}: expected {len(dimensions)} codes ({','.join(dimensions)})"
        )
    codes = wide["key"].str.split(",", expand=True)
    codes.columns = dimensions
    wide = pd.concat([codes.apply(lambda column: column.str.strip()), wide.drop(columns="key")], axis=1)
    long = wide.melt(id_vars=[*dimensions, "line"], value_vars=years, var_name="year", value_name="value")
    return long[["geo", "age", "sex", "year", "value", "line"]]


def _long_from_sdmx_csv(text: str, name: str) -> pd.DataFrame:
    try:
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except pd.errors.ParserError as error:
        raise ValueError(f"{name}: {error}") from error
    table.columns = [column.strip().lower() for column in table.columns]
    _require(list(table.columns), name, line=1, extra=("time_period", "obs_value"))
    long = pd.DataFrame({"line": np.arange(len(table)) + 2})
    for dimension in ("geo", "age", "sex"):
        long[dimension] = table[dimension].str.split(":", n=1).str[0].str.strip().to_numpy()
    long["year"] = table["time_period"].str.strip().to_numpy()
    value = table["obs_value"].str.strip()
    long["value"] = value.where(value != "", ":").to_numpy()
    return long[["geo", "age", "sex", "year", "value", "line"]]


def _require(columns: list[str], name: str, line: int, extra: tuple[str, ...] = ()) -> None:
    missing = [column for column in ("geo", "age", "sex", *extra) if column not in columns]
    if missing:
        raise ValueError(f"{name}, line {line}: no {', '.join(missing)} column (found {', '.join(columns)})")


def _age_band(code: str) -> tuple[int, int] | None:
    """(first age, width) of an age code, None for a code that is not kept, ValueError if unknown."""
    if code in _DROPPED_AGES or code.startswith("Y_GE"):
        return None
    if match := re.fullmatch(r"Y_LT(\d+)", code):
        return 0, int(match[1])
    if match := re.fullmatch(r"Y(\d+)", code):
        return int(match[1]), 1
    if match := re.fullmatch(r"Y(\d+)-(\d+)", code):
        first, last = int(match[1]), int(match[2])
        if last >= first:
            return first, last - first + 1
    raise ValueError(code)


def _first_line(long: pd.DataFrame, rows: pd.Series) -> int:
    return int(long.line[rows].min())


def _tidy(long: pd.DataFrame, name: str) -> pd.DataFrame:
    bands: dict[str, tuple[int, int] | None] = {}
    for code in long.age.unique():
        try:
            bands[code] = _age_band(code)
        except ValueError:
            line = _first_line(long, long.age == code)
            raise ValueError(f"{name}, line {line}: unknown age code {code!r}") from None
    unknown_sex = ~long.sex.isin(_SEXES)
    if unknown_sex.any():
        line = _first_line(long, unknown_sex)
        raise ValueError(f"{name}, line {line}: unknown sex code {long.sex[unknown_sex].iloc[0]!r}")
    bad_year = ~long.year.str.fullmatch(r"\d{4}")
    if bad_year.any():
        line = _first_line(long, bad_year)
        raise ValueError(f"{name}, line {line}: not a year: {long.year[bad_year].iloc[0]!r}")
    value = long.value.str.strip()
    missing = value.str.fullmatch(_MISSING.pattern)
    number = value.str.extract(_VALUE)["number"]
    bad_value = number.isna() & ~missing
    if bad_value.any():
        line = _first_line(long, bad_value)
        raise ValueError(f"{name}, line {line}: not a population count: {value[bad_value].iloc[0]!r}")

    kept_bands = {code: band for code, band in bands.items() if band is not None}
    kept = long.age.isin(list(kept_bands)) & ~missing
    long, number = long[kept], number[kept]
    first = long.age.map({code: band[0] for code, band in kept_bands.items()}).astype(int)
    width = long.age.map({code: band[1] for code, band in kept_bands.items()}).astype(int)
    paediatric = (first + width) <= PAEDIATRIC_AGES.stop
    tidy = pd.DataFrame(
        {
            "country": long.geo.replace(_ISO_COUNTRY),
            "year": long.year.astype(int),
            "sex": long.sex,
            "age": first,
            "age_width": width,
            "population": number.astype(float),
            "line": long.line,
        }
    )[paediatric]
    _refuse_overlaps(tidy, name)
    tidy = tidy.sort_values(["country", "year", "sex", "age"], kind="stable").reset_index(drop=True)
    return tidy[COLUMNS]


def _refuse_overlaps(tidy: pd.DataFrame, name: str) -> None:
    """Each year of age may be counted once per country, year and sex (no band over single years)."""
    spread = tidy.loc[tidy.index.repeat(tidy.age_width)]
    years_of_age = spread.age + spread.groupby(level=0).cumcount()
    keys = pd.DataFrame({"country": spread.country, "year": spread.year, "sex": spread.sex, "a": years_of_age})
    twice = keys.duplicated().to_numpy()
    if twice.any():
        row = spread[twice].iloc[0]
        raise ValueError(
            f"{name}, line {row.line}: age {keys.a[twice].iloc[0]} of {row.country}, {row.year}, sex {row.sex} "
            f"is counted twice (single years and age bands in one table?)"
        )
