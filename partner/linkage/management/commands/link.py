"""partner link run: compare new linkage encodings with the registry's and store candidate pairs."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from partner.linkage.matching import REVIEW_THRESHOLD
from partner.linkage.services import link_run


class Command(BaseCommand):
    help = (
        "Compare every linkage encoding not yet compared against all of the registry's, across centres "
        "and countries, and store the pairs at or above the threshold for review. Safe to re-run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="find candidate pairs among new encodings")
        run.add_argument(
            "--threshold",
            type=float,
            default=REVIEW_THRESHOLD,
            help=f"Sørensen-Dice similarity at or above which a pair is stored (default {REVIEW_THRESHOLD})",
        )
        run.add_argument("--all", action="store_true", help="compare every encoding again, not only new ones")
        run.add_argument(
            "--blocked",
            action="store_true",
            help="compare only children who share the year, the month or the day of birth: about six times "
            "faster, but a date typed wrong in all three parts is missed (by default every pair is compared)",
        )
        run.add_argument(
            "--workers",
            type=int,
            default=os.cpu_count() or 1,
            help="processes that share the comparisons (default: one per core, %(default)s here)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        threshold = options["threshold"]
        if not 0 < threshold <= 1:
            raise CommandError(f"--threshold {threshold}: give a similarity between 0 and 1")
        if options["workers"] < 1:
            raise CommandError(f"--workers {options['workers']}: give at least 1")
        result = link_run(
            threshold=threshold, everything=options["all"], blocked=options["blocked"], workers=options["workers"]
        )
        self.stdout.write(
            f"compared {result.compared} encodings with {result.against}: "
            f"{result.pairs} candidate pairs at similarity >= {threshold}, {result.new_pairs} new"
        )
