"""Dates known to the day, the month or the year only, as registries record them.

A partial date is written in ISO 8601 reduced precision: "2019-05-14", "2019-05", "2019". It
stands for an interval of days (all of May 2019, all of 2019). Comparisons between dates are made
by interval: a rule such as "not before birth" is broken only when every day of the interval
breaks it (`certainly_before`), never because the unknown day was guessed.

Where one day is needed (an analysis, an age), `midpoint` gives the usual imputation: the middle
of the known period, the 15th of the month or 1 July of the year, moved inside other known dates
that bound it (e.g. the date of birth) when they cut the period.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

DAY, MONTH, YEAR = "day", "month", "year"
PRECISIONS = (DAY, MONTH, YEAR)

_PATTERN = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", re.ASCII)

# Standalone month names, as a month is named beside a year alone ("May 2019", "maj 2019").
_MONTHS = {
    "en": "January February March April May June July August September October November December",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "pl": "styczeń luty marzec kwiecień maj czerwiec lipiec sierpień wrzesień październik listopad grudzień",
}


@dataclass(frozen=True)
class PartialDate:
    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        if self.day is not None and self.month is None:
            raise ValueError("a day needs a month")
        if not 1 <= self.year <= 9999:
            raise ValueError(f"year {self.year} is out of range")
        if self.month is not None and not 1 <= self.month <= 12:
            raise ValueError(f"month {self.month} does not exist")
        if self.day is not None:
            dt.date(self.year, self.month or 1, self.day)  # ValueError for 31 February

    @classmethod
    def parse(cls, value: str | dt.date | PartialDate) -> PartialDate:
        """ "2019-05-14", "2019-05" or "2019" (or a date); ValueError for anything else."""
        if isinstance(value, PartialDate):
            return value
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, dt.date):
            return cls(value.year, value.month, value.day)
        match = _PATTERN.fullmatch(value.strip()) if isinstance(value, str) else None
        if match is None:
            raise ValueError(f"{value!r} is not a date written YYYY-MM-DD, YYYY-MM or YYYY")
        year, month, day = (int(part) if part else None for part in match.groups())
        assert year is not None
        return cls(year, month, day)

    @property
    def precision(self) -> str:
        return DAY if self.day is not None else MONTH if self.month is not None else YEAR

    @property
    def is_full(self) -> bool:
        return self.day is not None

    @property
    def earliest(self) -> dt.date:
        return dt.date(self.year, self.month or 1, self.day or 1)

    @property
    def latest(self) -> dt.date:
        if self.day is not None:
            return self.earliest
        month = self.month or 12
        return dt.date(self.year, month, calendar.monthrange(self.year, month)[1])

    def midpoint(self, lower: dt.date | None = None, upper: dt.date | None = None) -> dt.date:
        """The imputed day: the 15th of the month or 1 July of the year, inside `lower`..`upper`
        where those known dates cut the period (a bound outside the period is ignored)."""
        if self.day is not None:
            return self.earliest
        day = dt.date(self.year, self.month, 15) if self.month is not None else dt.date(self.year, 7, 1)
        low = max(self.earliest, lower) if lower is not None and lower <= self.latest else self.earliest
        high = min(self.latest, upper) if upper is not None and upper >= self.earliest else self.latest
        if low > high:  # the bounds contradict each other: keep the plain middle
            return day
        return min(max(day, low), high)

    @property
    def iso(self) -> str:
        text = f"{self.year:04d}"
        if self.month is not None:
            text += f"-{self.month:02d}"
        if self.day is not None:
            text += f"-{self.day:02d}"
        return text

    def __str__(self) -> str:
        return self.iso

    def certainly_before(self, other: PartialDate | dt.date, days: int = 0) -> bool:
        """True when every day of this date is more than `days` days before every day of `other`."""
        other = PartialDate.parse(other)
        return self.latest < other.earliest - dt.timedelta(days=days)

    def certainly_after(self, other: PartialDate | dt.date) -> bool:
        other = PartialDate.parse(other)
        return self.earliest > other.latest

    def display(self, lang: str = "en") -> str | None:
        """ "May 2019" or "2019" in `lang`; None for a full date, which the caller formats as it does every date."""
        if self.day is not None:
            return None
        if self.month is None:
            return str(self.year)
        names = _MONTHS.get(lang[:2], _MONTHS["en"]).split()
        return f"{names[self.month - 1]} {self.year}"


def parse_partial(value: object) -> PartialDate | None:
    """The partial date of a stored value, or None when there is none or it is not one."""
    if value is None or value == "":
        return None
    try:
        return PartialDate.parse(value)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return None


def format_partial(value: object, lang: str = "en") -> str | None:
    """A stored year-month or year as a reader says it ("May 2019", "2019"); None for a full date or no date."""
    date = parse_partial(value)
    return date.display(lang) if date is not None else None


def precision_of(value: object) -> str | None:
    date = parse_partial(value)
    return date.precision if date is not None else None
