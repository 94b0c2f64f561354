"""A national group's mapping: its column names, its values and its date format, to the dictionary's.

group: TREP
name: trep-2024
columns:                 # source column: dictionary field, import column, or "-" to leave out
  ID_PAZIENTE: external_id
  SESSO: sex
  DATA_DIAGNOSI: diagnosis_date
  NOTE: "-"
values:                  # per dictionary field: source value -> the dictionary's code
  sex: {maschio: male, femmina: female}
dates: "%d/%m/%Y"        # how the source writes dates (default: ISO, 2024-03-01)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from partner.lib.dates import PartialDate


class MappingError(ValueError):
    pass


@dataclass(frozen=True)
class Mapping:
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    dates: str | None = None
    group: str = ""
    name: str = ""

    @classmethod
    def from_data(cls, data: Any, source: str = "mapping") -> Mapping:
        if not isinstance(data, dict):
            raise MappingError(f"{source}: a mapping is a YAML mapping with columns, values and dates")
        unknown = set(data) - {"group", "name", "columns", "values", "dates"}
        if unknown:
            raise MappingError(
                f"{source}: unknown keys {', '.join(sorted(unknown))} (known: group, name, columns, values, dates)"
            )
        columns = data.get("columns") or {}
        values = data.get("values") or {}
        if not isinstance(columns, dict) or not all(isinstance(v, str) for v in columns.values()):
            raise MappingError(f"{source}: columns maps each source column to one name")
        if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
            raise MappingError(f"{source}: values maps each field to a mapping of source value -> code")
        dates = data.get("dates")
        if dates is not None:
            try:
                dt.datetime.strptime(dt.date(2024, 3, 1).strftime(str(dates)), str(dates))
            except ValueError:
                raise MappingError(f"{source}: dates {dates!r} is not a date format such as %d/%m/%Y") from None
        return cls(
            columns={str(k): v.strip() for k, v in columns.items()},
            values={str(f): {str(k).strip().lower(): str(v) for k, v in m.items()} for f, m in values.items()},
            dates=str(dates) if dates else None,
            group=str(data.get("group") or ""),
            name=str(data.get("name") or ""),
        )

    @classmethod
    def from_file(cls, path: Path | str) -> Mapping:
        path = Path(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise MappingError(f"{path}: cannot read the file ({exc.strerror})") from None
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise MappingError(f"{path}: not a YAML file ({exc})") from None
        return cls.from_data(data, str(path))

    def as_data(self) -> dict[str, Any]:
        return {"columns": self.columns, "values": self.values, "dates": self.dates}

    def target(self, column: str) -> str:
        return self.columns.get(column, column)

    def value(self, target: str, text: str) -> str:
        """The dictionary's code for a source value; the value itself when the mapping has none for it."""
        return self.values.get(target, {}).get(text.strip().lower(), text)

    def date(self, text: str) -> str:
        """An ISO date from the source's date format; ValueError naming the expected format."""
        if not self.dates or not text:
            return text
        try:
            return dt.datetime.strptime(text.strip(), self.dates).date().isoformat()
        except ValueError as exc:
            if "out of range" in str(exc):  # the right shape, a day the month does not have (31/02)
                raise ValueError(f"{text!r} is not a date that exists") from None
            try:
                # A sheet's own dates arrive as ISO, and a partial date ("2019-05") is ISO only: the
                # dictionary's validator decides whether the field accepts it.
                return PartialDate.parse(text.strip()).iso
            except ValueError as iso:
                if "not a date written" not in str(iso):  # ISO in shape, but 2020-02-31 or month 13
                    raise ValueError(f"{text!r} is not a date that exists") from None
                example = dt.date(2024, 3, 1).strftime(self.dates)
                raise ValueError(f"{text!r} is not a date written {self.dates} (e.g. {example})") from None
