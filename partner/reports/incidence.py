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
from scipy.stats import chi2

from partner.analysis import Incidence
from partner.analysis.incidence import age_at
from partner.release import Release, as_count

from .population import coverage
from .sections import DASH, ReportTable, Section, shown_text

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


def incidence_section(cases: pd.DataFrame, population: pd.DataFrame, release: Release, *, today: dt.date) -> Section:
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
    years = pd.to_datetime(counted["diagnosis_date"]).dt.year
    ages = age_at(counted["diagnosis_date"], counted["date_of_birth"])  # the ages Incidence counts by
    in_period = counted[(years >= first) & (years <= last) & (ages >= 0) & (ages < 20)]
    released = release.counts(
        {c: in_period.loc[in_period["country"] == c, "case_id"] for c in by_country.crude_["country"]},
        total=in_period["case_id"],
    )
    rows = []
    for country in crude.index:
        rate = crude.loc[country]
        standard = asr.loc[country]
        shown = as_count(released.get(country))
        hidden = shown is None
        # The rates of a protected report are of the released count, so that rate times person-years
        # gives back the released count, not the true one; the standardised rate is scaled with it.
        scale = 1.0 if shown is None or release.exact or not rate["cases"] else shown / float(rate["cases"])
        crude_rate = (
            _poisson_rate(shown, float(rate["person_years"])) if shown is not None and not release.exact else None
        )
        rows.append(
            [
                _("All these countries") if country == TOTAL else country,
                shown_text(shown, release.threshold),
                f"{rate['person_years'] / 1e6:.1f}",
                "—" if hidden else _interval(*(crude_rate or (rate["rate"], rate["lower"], rate["upper"]))),
                "—"
                if hidden
                else _interval(standard["asr"] * scale, standard["lower"] * scale, standard["upper"] * scale),
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
    if not release.exact:
        note += " " + _("A rate is hidden with its count, and computed from the count as released.")
    section.tables.append(ReportTable("incidence", _("Incidence per million children a year"), frame, note))
    return section


def _interval(value: float, lower: float, upper: float) -> str:
    return f"{value:.2f} ({lower:.2f}{DASH}{upper:.2f})"


def _poisson_rate(count: int, person_years: float) -> tuple[float, float, float]:
    """A rate per million a year with its exact Poisson interval (95%), from a count."""
    per = 1e6 / person_years
    lower = chi2.ppf(0.025, 2 * count) / 2 if count else 0.0
    upper = chi2.ppf(0.975, 2 * count + 2) / 2
    return count * per, lower * per, upper * per
