"""partner population load FILE | show: the population denominators of incidence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from partner.reports.population import PopulationError, coverage, load_population, population_frame


class Command(BaseCommand):
    help = (
        "Load Eurostat's population by age and sex (bulk TSV, optionally gzipped, or SDMX-CSV), or show what is loaded."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        load = actions.add_parser("load", help="load a file; its counts replace those loaded before for the same keys")
        load.add_argument("file", type=Path)
        actions.add_parser("show", help="the years of each country with every age from 0 to 19")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "load":
            path: Path = options["file"]
            if not path.is_file():
                raise CommandError(f"{path}: no such file")
            try:
                load = load_population(path, name=path.name)
            except PopulationError as error:
                raise CommandError(str(error)) from error
            self.stdout.write(
                f"{load.source}: {load.rows} counts loaded, {load.replaced} of them replacing earlier ones"
            )
        spans = coverage(population_frame()).spans()
        if not spans:
            self.stdout.write("no population loaded")
        for country, years in spans.items():
            self.stdout.write(f"{country}  {years}")
