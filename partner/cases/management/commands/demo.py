"""partner demo: build the synthetic demonstration registry."""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from partner.cases.demo import generate
from partner.cases.demo_reference import DEMO_PASSWORD, DEMO_USERS, build_reference
from partner.cases.models import TumourCase
from partner.cases.services import CaseInvalid
from partner.dictionary.loader import NoDictionary, get_dictionary


class Command(BaseCommand):
    help = "Build a reproducible synthetic registry: countries, centres, demo users per role, cases, consultations."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--patients", type=int, default=600, help="number of synthetic patients (default 600)")
        parser.add_argument("--seed", type=int, default=1, help="random seed: the same seed gives the same registry")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when cases already exist")
        parser.add_argument("--print-logins", action="store_true", help="only print the demo logins")
        parser.add_argument("--force", action="store_true", help="allow demo users outside debug mode")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["print_logins"]:
            return self._logins()
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "the demo creates users with a published password: run it with DEBUG=true (make run) or --force"
            )
        if options["patients"] < 0:
            raise CommandError("--patients must be zero or more")
        try:
            dictionary = get_dictionary()
        except NoDictionary as exc:
            raise CommandError(str(exc)) from None
        if options["if_empty"] and TumourCase.objects.exists():
            self.stdout.write(f"the registry already holds {TumourCase.objects.count()} cases: demo not rebuilt")
            return None
        build_reference()
        errors = 0
        progress = tqdm(
            total=options["patients"], desc="demo registry", unit="patient", disable=not sys.stderr.isatty()
        )
        # Thousands of cases: quality control runs once over all of them (partner qc run), not at each save.
        from partner.quality.receivers import deferred

        try:
            with deferred():
                for _, error in generate(
                    dictionary, patients=options["patients"], seed=options["seed"], key=settings.PSEUDONYM_KEY
                ):
                    errors += error is not None
                    progress.update()
        except CaseInvalid as exc:
            raise CommandError(f"the demo generator produced an invalid case: {exc}") from None
        finally:
            progress.close()
        from partner.consult.demo import demo_consultations
        from partner.quality.demo import demo_queries
        from partner.quality.services import check_cases
        from partner.reports.demo import load_demo_population

        found = check_cases(TumourCase.objects.all())
        queries = demo_queries(options["seed"])
        consultations = demo_consultations(options["seed"])
        load_demo_population(options["seed"])
        from partner.website.demo import demo_website

        demo_website()
        self.stdout.write(
            f"demo registry: {TumourCase.objects.count()} cases in total, "
            f"{errors} of the new ones with a deliberate error for quality control; "
            f"{len(found.found)} quality findings, {queries} clarification queries, "
            f"{consultations} expert consultations"
        )
        return None

    def _logins(self) -> None:
        from partner.consult.demo import SEATS

        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD})")
        for username, role, scope in [*DEMO_USERS, ("admin", "administrator", None)]:
            if username in SEATS:  # an expert sees the consultations assigned to them, on the panels they sit on
                _, country, panels = SEATS[username]
                scope = f"{country}: {', '.join(panels)} panels"
            self.stdout.write(f"  {username:<18} {getattr(role, 'label', role)!s:<24} {scope or 'all'}")
