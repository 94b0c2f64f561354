"""partner consult list [--status S] | remind: expert consultations from the command line."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from partner.consult import services
from partner.consult.models import Consultation, ConsultationStatus


def _when(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


class Command(BaseCommand):
    help = (
        "Expert consultations: list them (newest first; never the question or the case summary), or remind the "
        "experts of the requests past their due date (the coordinators when nobody is assigned yet), at most once "
        "a day per request: run `partner consult remind` from cron."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        listing = sub.add_parser("list", help="every request: status, urgency, panel, dates, votes")
        listing.add_argument("--status", choices=ConsultationStatus.values)
        sub.add_parser("remind", help="remind the experts (or coordinators) of overdue requests")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            self._list(options["status"])
        else:
            count = services.remind()
            self.stdout.write(
                ngettext("%(n)s overdue consultation reminded.", "%(n)s overdue consultations reminded.", count)
                % {"n": count}
            )

    def _list(self, status: str | None) -> None:
        found = Consultation.objects.select_related("case__entity").prefetch_related("assignments")
        if status:
            found = found.filter(status=status)
        now = timezone.now()
        rows = list(found.order_by("-submitted_at", "-id"))
        if not rows:
            self.stdout.write(_("No consultation."))
            return
        for c in rows:
            votes = [a.vote for a in c.assignments.all()]
            overdue = c.status in (ConsultationStatus.SUBMITTED, ConsultationStatus.ASSIGNED) and c.due < now
            entity = c.case.entity.code if c.case.entity else "—"
            line = (
                f"#{c.pk:<5} {c.status:<10} {c.urgency:<8} {c.panel:<21} {entity:<18} {_('case')} {c.case_id:<6} "
                f"{_('submitted')} {_when(c.submitted_at)}  {_('due')} {_when(c.due)}  "
                f"{_('votes')} {sum(1 for v in votes if v)}/{len(votes)}"
            )
            self.stdout.write(f"{line}  {_('overdue')}" if overdue else line)
