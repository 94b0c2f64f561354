"""Loading population denominators, and reading them back as the frame `partner.analysis` wants.

    load_population(path, user=request.user)   # Eurostat bulk TSV or SDMX-CSV, optionally gzipped

The file is read whole by `partner.analysis.read_eurostat` before anything is written; the load is
one transaction, so a bad file changes nothing.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import pandas as pd
from django.db import transaction

from partner.analysis import read_eurostat
from partner.analysis.population import COLUMNS

from .models import PopulationCount, PopulationLoad

KEY = ["country", "year", "sex", "age", "age_width"]


class PopulationError(ValueError):
    """A population file that cannot be loaded; the message names the file."""


@dataclass
class Coverage:
    """Which years each country has complete paediatric (0-19, both sexes) population for."""

    years: dict[str, list[int]]

    def spans(self) -> dict[str, str]:
        """Each country's years as text, runs joined: "2010-2019, 2021"."""
        result = {}
        for country, years in self.years.items():
            runs: list[list[int]] = []
            for year in years:
                if runs and year == runs[-1][-1] + 1:
                    runs[-1].append(year)
                else:
                    runs.append([year])
            result[country] = ", ".join(f"{r[0]}-{r[-1]}" if len(r) > 1 else str(r[0]) for r in runs)
        return result


def load_population(source: str | Path | IO[bytes], *, name: str = "", user: Any = None) -> PopulationLoad:
    """Load a Eurostat population table; its counts replace those loaded before for the same keys."""
    label = name or (str(source) if isinstance(source, (str, Path)) else getattr(source, "name", "upload"))
    raw = Path(source).read_bytes() if isinstance(source, (str, Path)) else source.read()
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    buffer = io.BytesIO(raw)
    buffer.name = label  # the reader tells a gzipped file by its content and names the file in its errors
    try:
        frame = read_eurostat(buffer)
    except (ValueError, UnicodeDecodeError, OSError, EOFError) as error:
        message = str(error)
        raise PopulationError(message if message.startswith(label) else f"{label}: {message}") from error
    if frame.empty:
        raise PopulationError(f"{label}: no population of ages 0 to 19 in the file")
    with transaction.atomic():
        existing = PopulationCount.objects.filter(
            country__in=frame["country"].unique().tolist(), year__in=[int(y) for y in frame["year"].unique()]
        )
        stored = pd.DataFrame.from_records(existing.values("id", *KEY), columns=["id", *KEY])
        keyed = frame.merge(stored, on=KEY, how="inner") if len(stored) else stored
        replaced = PopulationCount.objects.filter(pk__in=[int(i) for i in keyed["id"]]).delete()[0] if len(keyed) else 0
        load = PopulationLoad.objects.create(
            source=label[:300],
            digest=hashlib.sha256(raw).hexdigest(),
            rows=len(frame),
            replaced=replaced,
            loaded_by=user,
        )
        PopulationCount.objects.bulk_create(
            PopulationCount(
                load=load,
                country=row["country"],
                year=int(row["year"]),
                sex=row["sex"],
                age=int(row["age"]),
                age_width=int(row["age_width"]),
                population=round(float(row["population"])),
            )
            for row in cast(list[dict[str, Any]], frame.to_dict("records"))
        )
    return load


def population_frame(countries: list[str] | None = None) -> pd.DataFrame:
    """The loaded population as `read_eurostat` returns it, for `Incidence.fit`."""
    rows = PopulationCount.objects.all()
    if countries is not None:
        rows = rows.filter(country__in=countries)
    frame = pd.DataFrame.from_records(rows.values(*COLUMNS), columns=COLUMNS)
    return frame.astype({"year": "int64", "age": "int64", "age_width": "int64", "population": "float64"})


def coverage(population: pd.DataFrame) -> Coverage:
    """The years of each country whose both-sexes counts cover every age from 0 to 19."""
    years: dict[str, list[int]] = {}
    total = population[population["sex"] == "T"]
    for key, rows in total.groupby(["country", "year"]):
        country, year = cast(tuple[str, int], key)
        ages: set[int] = set()
        for age, width in zip(rows["age"], rows["age_width"], strict=True):
            ages.update(range(int(age), int(age) + int(width)))
        if ages >= set(range(20)):
            years.setdefault(str(country), []).append(int(year))
    return Coverage({country: sorted(ys) for country, ys in sorted(years.items())})
