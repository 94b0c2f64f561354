"""Incidence per million children of an entity, by country and pooled, from the loaded populations.

The period is the longest run of recent complete years (at most `MAX_YEARS`, ending last year at
the latest) for which every country with cases has its population loaded; a country whose
population does not cover it is named in a note rather than counted. Rates are of tumours
diagnosed at ages 0 to 19, crude and standardised to Segi's world population (restricted to those
ages). They assume the registry holds every case of each country.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from django.utils.translation import gettext as _

from partner.analysis import Incidence

from .population import coverage
from .sections import DASH, ReportTable, Section, counts_shown

MAX_YEARS = 10
TOTAL = "Total"


def incidence_period(countries: list[str], population: pd.DataFrame, today: dt.date) -> tuple[int, int] | None:
    """The recent run of complete years every country's population covers, or None."""
    years = coverage(population).years
    common = set(range(1900, today.year))  # a year counts once it is over
    for country in countries:
        common &= set(years.get(country, []))
    if not common:
        return None
    last = max(common)
    first = last
    while first - 1 in common and last - first + 1 < MAX_YEARS:
        first -= 1
    return first, last


def incidence_section(
    cases: pd.DataFrame, population: pd.DataFrame, threshold: int, suppressed: bool, *, today: dt.date
) -> Section:
    section = Section(
        "incidence",
        _("Incidence"),
        _("New tumours per million children aged 0 to 19 a year, assuming every case of each country is registered."),
    )
    if population.empty:
        section.notes.append(
            _("No population loaded: a European coordinator loads Eurostat's table on the population page.")
        )
        return section
    dated = cases[cases["diagnosis_date"].notna() & cases["date_of_birth"].notna()]
    with_population = set(coverage(population).years)
    countries = sorted(set(dated["country"].dropna().astype(str)) & with_population)
    without = sorted(set(cases["country"].dropna().astype(str)) - with_population)
    if without:
        section.notes.append(_("No population loaded for %(countries)s.") % {"countries": ", ".join(without)})
    # Drop, one at a time, the country that shortens the common period most, until one remains.
    period = incidence_period(countries, population, today)
    while countries and period is None:
        countries = countries[:-1]
        period = incidence_period(countries, population, today)
    if not countries or period is None:
        section.notes.append(_("No period of complete years that every country's population covers."))
        return section
    first, last = period
    counted = dated[dated["country"].isin(countries)]
    pop = population[population["country"].isin(countries)]
    by_country = Incidence().fit(counted, pop, by=("country",), period=period)
    pooled = Incidence().fit(counted, pop, by=(), period=period)

    crude = pd.concat(
        [by_country.crude_.set_index("country"), pooled.crude_.assign(country=TOTAL).set_index("country")]
    )
    asr = pd.concat([by_country.asr_.set_index("country"), pooled.asr_.assign(country=TOTAL).set_index("country")])
    shown = counts_shown(crude["cases"].astype("int64"), threshold, suppressed, total=TOTAL)
    hidden = shown.str.startswith("<")
    rows = []
    for country in crude.index:
        rate = crude.loc[country]
        standard = asr.loc[country]
        rows.append(
            [
                _("All these countries") if country == TOTAL else country,
                shown[country],
                f"{rate['person_years'] / 1e6:.1f}",
                "—" if hidden[country] else f"{rate['rate']:.2f} ({rate['lower']:.2f}{DASH}{rate['upper']:.2f})",
                "—"
                if hidden[country]
                else f"{standard['asr']:.2f} ({standard['lower']:.2f}{DASH}{standard['upper']:.2f})",
            ]
        )
    frame = pd.DataFrame(
        rows,
        columns=[
            _("Country"),
            _("Tumours"),
            _("Million person-years"),
            _("Crude rate (95% CI)"),
            _("Age-standardised rate (95% CI)"),
        ],
    )
    note = _(
        "Diagnosed %(first)s to %(last)s, aged 0 to 19. Rates per million a year; standardised to Segi's world "
        "population of ages 0 to 19, with the interval of Fay and Feuer; the crude rate's interval is exact (Poisson)."
    ) % {"first": first, "last": last}
    if suppressed:
        note += " " + _("A rate is hidden with its count.")
    section.tables.append(ReportTable("incidence", _("Incidence per million children a year"), frame, note))
    return section
