"""The registry's public statistics: cases by tumour, by country and by year of diagnosis.

Everything here leaves the registry, so every count is released by `partner.release` for the
public: counts from 1 to the threshold less one are hidden, and so are the counts that would let
them be worked out from the total; every count shown is changed a little by its cell key. Consent
withdrawn, a case is not counted; drafts are not counted either, since nobody has checked them yet.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from django.db.models.functions import ExtractYear
from django.utils import translation
from django.utils.translation import gettext as _
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from partner.accounts.countries import country_name, name_key
from partner.lib.figures import PALETTE, styled, svg
from partner.release import Release


@dataclass
class CountTable:
    """One breakdown: labels, counts as shown (None where hidden), its figure as inline SVG."""

    key: str
    title: str
    rows: list[tuple[str, int | None]]
    total: int | None  # released: None where hidden
    svg: str


def _figure(title: str, labels: list[str], shown: list[int | None], *, horizontal: bool, key: str) -> str:
    """The breakdown's chart. Drawing one takes a few hundred milliseconds and every visitor of a language
    sees the same, so a chart is drawn once for its counts and kept: the key is everything drawn."""
    language = translation.get_language() or "en"
    return _drawn(title, tuple(labels), tuple(shown), horizontal, key, language)


@functools.lru_cache(maxsize=64)
def _drawn(
    title: str, labels: tuple[str, ...], shown: tuple[int | None, ...], horizontal: bool, key: str, language: str
) -> str:
    with translation.override(language), styled():
        height = max(2.4, 0.8 + 0.3 * len(labels)) if horizontal else 3.2
        fig = Figure(figsize=(7.0, height), layout="constrained")
        ax = fig.add_subplot()
        values = [v or 0 for v in shown]
        positions = range(len(labels))
        if horizontal:
            ax.barh(list(positions)[::-1], values, color=PALETTE[0])
            ax.set_yticks(list(positions)[::-1], labels)
            ax.set_xlabel(_("cases"))
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        else:
            ax.bar(list(positions), values, color=PALETTE[0])
            step = max(1, -(-len(labels) // 8))  # at most eight labels under the bars
            ax.set_xticks(list(positions)[::step], labels[::step])
            ax.set_ylabel(_("cases"))
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        for i, value in enumerate(shown):
            if value is None:  # a hidden count is marked, never drawn
                x, y = (0, len(labels) - 1 - i) if horizontal else (i, 0)
                ax.annotate("…", (x, y), ha="left" if horizontal else "center", va="center" if horizontal else "bottom")
        ax.set_title(title)
        ax.grid(axis="x" if horizontal else "y", color="#DDE2E8", linewidth=0.8)
        ax.set_axisbelow(True)
    return svg(fig, title, key)


def _label(key: str, value: Any, names: dict[str, Any], language: str) -> Any:
    """A row's label in the page's language: the tumour's name, the country's (counted by code), the year."""
    if key == "entity":
        return str(names.get(value, value))
    if key == "country":
        return country_name(value, value, language)
    return value


def breakdowns(language: str = "en", release: Release | None = None) -> list[CountTable]:
    from partner.dictionary.loader import NoDictionary, get_dictionary

    release = release or Release.public()
    try:
        names = {e.code: e.names.get(language) for e in get_dictionary().entities}
    except NoDictionary:
        names = {}
    tables = []
    specs = [
        ("entity", _("Cases by tumour"), "entity__code", True),
        ("country", _("Cases by country"), "centre__country__code", True),
        ("year", _("Cases by year of diagnosis"), "year", False),
    ]
    for key, title, column, horizontal in specs:
        counted, total = release.count_table(column, year=ExtractYear("diagnosis_date"))
        data = [(_label(key, label, names, language), n) for label, n in counted if label is not None]
        # by name in the page's language or by year, never by the count, which may be hidden
        data.sort(key=lambda r: r[0] if key == "year" else name_key(str(r[0])))
        labels = [str(label) for label, _n in data]
        shown = [n for _label, n in data]
        table = CountTable(key, title, list(zip(labels, shown, strict=True)), total, "")
        if data:
            table.svg = _figure(title, labels, shown, horizontal=horizontal, key=f"stat-{key}")
        tables.append(table)
    return tables
