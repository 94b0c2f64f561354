"""partner qc run: quality control over the registry (or a country); partner qc remind: overdue queries."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from partner.accounts.models import Country
from partner.cases.models import TumourCase
from partner.dictionary.loader import get_dictionary
from partner.quality.models import Finding, FindingStatus
from partner.quality.registry import registry_rules
from partner.quality.services import check_cases


class Command(BaseCommand):
    help = "Quality control: run every rule over the registry and store the findings; send query reminders."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        run = sub.add_parser("run", help="run every rule over the registry's cases (vectorised), store the findings")
        run.add_argument("--country", help="ISO code of the country whose cases to check (default: all)")
        run.add_argument("--json", action="store_true", help="print the summary as JSON on standard output")
        sub.add_parser("remind", help="e-mail the centres about clarification queries past their due date")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "remind":
            from partner.quality.queries import send_reminders

            sent = send_reminders()
            self.stdout.write(f"{sent} reminder{'s' if sent != 1 else ''} sent")
            return
        cases = TumourCase.objects.all()
        if options["country"]:
            code = options["country"].upper()
            if not Country.objects.filter(code=code).exists():
                known = ", ".join(Country.objects.order_by("code").values_list("code", flat=True)) or "none"
                raise CommandError(f"--country {options['country']}: no such country (known: {known})")
            cases = cases.filter(centre__country__code=code)
        dictionary = get_dictionary()
        rules = registry_rules(dictionary)
        started = time.perf_counter()
        bar = tqdm(total=len(rules), desc="rules", unit="rule", disable=options["json"] or not sys.stderr.isatty())
        try:
            result = check_cases(cases, progress=lambda rule: bar.update(1), dictionary=dictionary)
        finally:
            bar.close()
        seconds = time.perf_counter() - started
        stored = Finding.objects.filter(case__in=cases.values("pk"))
        open_by_severity = {
            severity: stored.filter(status=FindingStatus.OPEN, severity=severity).count()
            for severity in ("error", "warning", "query")
        }
        open_rules = stored.filter(status=FindingStatus.OPEN).values_list("rule", flat=True)
        by_rule: dict[str, int] = {}
        for rule in open_rules:
            by_rule[rule] = by_rule.get(rule, 0) + 1
        summary = {
            "country": options["country"].upper() if options["country"] else None,
            "cases": result.cases,
            "rules": len(rules),
            "seconds": round(seconds, 2),
            "opened": result.opened,
            "reopened": result.reopened,
            "resolved": result.resolved,
            "confirmed": stored.filter(status=FindingStatus.CONFIRMED).count(),
            "open": open_by_severity,
            "open_by_rule": dict(sorted(by_rule.items(), key=lambda item: (-item[1], item[0]))),
        }
        if options["json"]:
            self.stdout.write(json.dumps(summary, indent=2))
            return
        self.stdout.write(
            f"checked {result.cases} cases with {len(rules)} rules in {seconds:.1f} s: "
            f"{result.opened} new findings, {result.reopened} reopened, {result.resolved} resolved"
        )
        words = {"error": ("error", "errors"), "warning": ("warning", "warnings"), "query": ("query", "queries")}
        counts = [f"{n} {words[severity][n != 1]}" for severity, n in open_by_severity.items()]
        self.stdout.write(f"open: {', '.join(counts)}; {summary['confirmed']} confirmed")
        for rule, n in sorted(by_rule.items(), key=lambda item: (-item[1], item[0]))[:15]:
            self.stdout.write(f"  {n:6d}  {rule}")
