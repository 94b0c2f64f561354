"""Loading population denominators: command, page, replacement, refusal; and the incidence they give."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from pathlib import Path

import pandas as pd
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from partner.release import Policy, Release
from partner.reports.incidence import incidence_period, incidence_section
from partner.reports.models import PopulationCount, PopulationLoad
from partner.reports.population import coverage, load_population, population_frame
from partner.testing import RegistryTestCase

EXACT = Release(None, Policy(exact=True, threshold=5))
PROTECTED = Release(None, Policy(exact=False, threshold=5))
AGES = ["Y_LT1", *(f"Y{a}" for a in range(1, 20))]


def eurostat(countries: dict[str, float], years: range, *, skip: tuple[str, int] | None = None) -> str:
    """A bulk TSV with `per_age` children of each single year of age, both sexes, in each country."""
    lines = ["freq,unit,age,sex,geo\\TIME_PERIOD\t" + "\t".join(f"{y} " for y in years)]
    for country, per_age in countries.items():
        for age in AGES:
            for sex, share in (("F", 0.5), ("M", 0.5), ("T", 1.0)):
                cells = [": " if skip == (country, y) and age == "Y7" else f"{per_age * share:.0f} " for y in years]
                lines.append(f"A,NR,{age},{sex},{country}\t" + "\t".join(cells))
    return "\n".join(lines) + "\n"


class LoadingPopulations(RegistryTestCase):
    def test_the_command_loads_a_file_and_a_second_load_replaces_the_same_keys(self) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            first = Path(tmp) / "demo_pjan.tsv"
            first.write_text(eurostat({"IT": 1000}, range(2018, 2021)))
            out = io.StringIO()
            call_command("population", "load", str(first), stdout=out)
            self.assertIn("demo_pjan.tsv: 180 counts loaded, 0 of them replacing", out.getvalue())
            self.assertIn("IT  2018-2020", out.getvalue())
            second = Path(tmp) / "corrected.tsv"
            second.write_text(eurostat({"IT": 1100}, range(2020, 2022)))
            call_command("population", "load", str(second), stdout=io.StringIO())
        self.assertEqual(PopulationCount.objects.filter(country="IT", year=2020).count(), 60)
        self.assertEqual(
            set(PopulationCount.objects.filter(year=2020).values_list("population", flat=True)), {550, 1100}
        )
        self.assertEqual(PopulationLoad.objects.get(source="corrected.tsv").replaced, 60)
        self.assertEqual(coverage(population_frame()).spans(), {"IT": "2018-2021"})

    def test_a_bad_file_names_its_line_and_changes_nothing(self) -> None:
        load_population(io.BytesIO(eurostat({"FR": 500}, range(2019, 2021)).encode()), name="good.tsv")
        before = list(PopulationCount.objects.values_list("id", "population"))
        broken = eurostat({"FR": 999}, range(2019, 2021)).replace("A,NR,Y5,T,FR\t999 \t999 ", "A,NR,Y5,T,FR\t999 ")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "broken.tsv"
            path.write_text(broken)
            with self.assertRaisesMessage(CommandError, "broken.tsv, line"):
                call_command("population", "load", str(path), stdout=io.StringIO())
        self.assertEqual(list(PopulationCount.objects.values_list("id", "population")), before)
        self.assertEqual(PopulationLoad.objects.count(), 1)

    def test_a_year_with_an_age_missing_is_not_covered(self) -> None:
        load_population(io.BytesIO(eurostat({"PL": 400}, range(2015, 2020), skip=("PL", 2017)).encode()), name="x.tsv")
        self.assertEqual(coverage(population_frame()).spans(), {"PL": "2015-2016, 2018-2019"})

    def test_only_a_european_coordinator_loads_from_the_page(self) -> None:
        upload = eurostat({"DE": 800}, range(2020, 2022)).encode()
        self.sign_in(self.client, self.nc_italy)
        self.assertEqual(self.client.get("/reports/population/").status_code, 200)
        refused = self.client.post("/reports/population/", {"file": SimpleUploadedFile("de.tsv", upload)})
        self.assertEqual(refused.status_code, 403)
        self.assertFalse(PopulationCount.objects.exists())
        self.sign_in(self.client, self.european)
        response = self.client.post("/reports/population/", {"file": SimpleUploadedFile("de.tsv", upload)}, follow=True)
        self.assertContains(response, "de.tsv: 120 counts loaded")
        self.assertContains(response, "2020-2021")
        self.assertEqual(PopulationLoad.objects.get().loaded_by, self.european)
        bad = self.client.post(
            "/reports/population/", {"file": SimpleUploadedFile("x.csv", b"a,b\n1,2\n")}, follow=True
        )
        self.assertContains(bad, "x.csv, line 1: not a Eurostat table")
        self.assertEqual(PopulationLoad.objects.count(), 1)


def _cases(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case_id": range(1, len(rows) + 1),
            "country": [r[0] for r in rows],
            "date_of_birth": pd.to_datetime([r[1] for r in rows]),
            "diagnosis_date": pd.to_datetime([r[2] for r in rows]),
        }
    )


class TheIncidenceSection(RegistryTestCase):
    def population(self) -> pd.DataFrame:
        load_population(io.BytesIO(eurostat({"IT": 50_000, "FR": 100_000}, range(2015, 2026)).encode()), name="p.tsv")
        return population_frame()

    def test_rates_are_the_tumours_over_the_person_years_of_the_period(self) -> None:
        population = self.population()
        self.assertEqual(incidence_period(["IT", "FR"], population, dt.date(2026, 3, 1)), (2016, 2025))
        italy = [("IT", "2010-01-01", f"{2016 + i}-06-01") for i in range(8)]
        france = [("FR", "2012-01-01", f"{2017 + i}-02-01") for i in range(6)]
        section = incidence_section(_cases(italy + france), population, EXACT, today=dt.date(2026, 3, 1))
        frame = section.tables[0].frame.set_index("Country")
        # Italy: 8 tumours over 10 years x 20 ages x 50,000 children = 10 million person-years.
        self.assertEqual(frame.loc["IT", "Tumours"], "8")
        self.assertEqual(frame.loc["IT", "Million person-years"], "10.0")
        self.assertTrue(frame.loc["IT", "Crude rate (95% CI)"].startswith("0.80 ("))
        self.assertTrue(frame.loc["FR", "Crude rate (95% CI)"].startswith("0.30 ("))
        self.assertTrue(frame.loc["All these countries", "Crude rate (95% CI)"].startswith(f"{14 / 30:.2f} ("))

    def test_a_small_country_is_hidden_with_its_rate_and_cannot_be_worked_out_from_the_total(self) -> None:
        population = self.population()
        load_population(io.BytesIO(eurostat({"PL": 30_000}, range(2015, 2026)).encode()), name="pl.tsv")
        population = population_frame()
        rows = [("IT", "2010-01-01", "2018-06-01")] * 9 + [("FR", "2010-01-01", "2019-06-01")] * 3
        rows += [("PL", "2011-01-01", "2020-06-01")] * 7 + [("GB", "2011-01-01", "2020-06-01")] * 2
        section = incidence_section(_cases(rows), population, PROTECTED, today=dt.date(2026, 3, 1))
        frame = section.tables[0].frame.set_index("Country")
        self.assertEqual(frame.loc["FR", "Tumours"], "<5")
        self.assertEqual(frame.loc["FR", "Crude rate (95% CI)"], "—")
        self.assertLessEqual(abs(int(frame.loc["All these countries", "Tumours"]) - 19), 2)  # changed by its cell key
        # The total minus the countries shown would give France: a second country is hidden too.
        hidden = [c for c in ("IT", "FR", "PL") if frame.loc[c, "Tumours"].startswith("<")]
        self.assertGreaterEqual(len(hidden), 2)
        self.assertIn("No population loaded for GB.", section.notes)

    def test_without_a_population_it_says_where_to_load_one(self) -> None:
        section = incidence_section(
            _cases([("IT", "2010-01-01", "2018-06-01")]), population_frame(), PROTECTED, today=dt.date(2026, 1, 1)
        )
        self.assertEqual(section.tables, [])
        self.assertIn("No population loaded", section.notes[0])
