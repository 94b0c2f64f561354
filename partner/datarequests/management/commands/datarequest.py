"""partner datarequest list | show ID | approve ID --by USERNAME [--note] | reject ID --by USERNAME --note TEXT |
extract ID --out FILE.zip: researchers' data requests from the command line."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from partner.datarequests import selection, services
from partner.datarequests.models import DataRequest, RequestStatus
from partner.dictionary.loader import get_dictionary


def _when(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


class Command(BaseCommand):
    help = (
        "Researchers' data requests: list them, show one with its history, approve or reject a submitted one "
        "(as a European coordinator, named by --by), or write the extract of an approved one to a zip file "
        "(logged as an export by the registry)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        listing = sub.add_parser("list", help="every request, the submitted ones first")
        listing.add_argument("--status", choices=RequestStatus.values)
        show = sub.add_parser("show", help="one request: purpose, variables, cohort, decision and history")
        show.add_argument("id", type=int)
        approve = sub.add_parser("approve", help="approve a submitted request")
        approve.add_argument("id", type=int)
        approve.add_argument("--by", required=True, metavar="USERNAME", help="the European coordinator deciding")
        approve.add_argument("--note", default="", help="a note to the researcher")
        reject = sub.add_parser("reject", help="reject a submitted request, with the reason")
        reject.add_argument("id", type=int)
        reject.add_argument("--by", required=True, metavar="USERNAME", help="the European coordinator deciding")
        reject.add_argument("--note", required=True, help="the reason, which the researcher reads")
        extract = sub.add_parser("extract", help="write the extract of an approved request")
        extract.add_argument("id", type=int)
        extract.add_argument("--out", type=Path, required=True, metavar="FILE.zip", help="the zip file to write")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            self._list(options["status"])
            return
        try:
            item = DataRequest.objects.select_related("requester", "decided_by").get(pk=options["id"])
        except DataRequest.DoesNotExist:
            raise CommandError(_("No data request #%(id)s.") % {"id": options["id"]}) from None
        try:
            if action == "show":
                self._show(item)
            elif action in ("approve", "reject"):
                decision = RequestStatus.APPROVED if action == "approve" else RequestStatus.REJECTED
                item = services.decide(item, user=self._user(options["by"]), decision=decision, note=options["note"])
                self.stdout.write(
                    _("Request #%(id)s is %(status)s.") % {"id": item.pk, "status": item.get_status_display()}
                )
            else:
                extract = services.write_extract(item, options["out"])
                self.stdout.write(
                    ngettext(
                        "Request #%(id)s: %(n)s case written to %(path)s (%(files)s).",
                        "Request #%(id)s: %(n)s cases written to %(path)s (%(files)s).",
                        len(extract.case_ids),
                    )
                    % {
                        "id": item.pk,
                        "n": len(extract.case_ids),
                        "path": options["out"],
                        "files": ", ".join(f"{name}: {rows}" for name, rows in extract.files.items()),
                    }
                )
        except (PermissionDenied, services.NotNow) as exc:
            raise CommandError(str(exc)) from None
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None

    def _user(self, username: str) -> Any:
        try:
            return get_user_model().objects.get(username=username, is_active=True)
        except get_user_model().DoesNotExist:
            raise CommandError(_("No active user %(username)s.") % {"username": username}) from None

    def _list(self, status: str | None) -> None:
        found = DataRequest.objects.select_related("requester")
        if status:
            found = found.filter(status=status)
        rows = sorted(found, key=lambda r: (r.status != RequestStatus.SUBMITTED, -r.created.timestamp(), -r.pk))
        if not rows:
            self.stdout.write(_("No data request."))
            return
        for r in rows:
            self.stdout.write(
                f"#{r.pk:<5} {r.status:<10} {_when(r.created)}  {r.requester.get_username():<20} "
                f"{len(r.variables):>3} {_('variables')}  {r.title}"
            )

    def _show(self, item: DataRequest) -> None:
        dictionary = get_dictionary(item.dictionary_version)
        lines = [
            f"#{item.pk} {item.title}",
            f"{_('Researcher')}: {item.requester.get_username()}",
            f"{_('Submitted')}: {_when(item.created)}",
            f"{_('Status')}: {item.get_status_display()}",
            f"{_('Data dictionary')}: v{item.dictionary_version}",
        ]
        if item.decided_by:
            lines.append(f"{_('Decided')}: {_when(item.decided_at)} · {item.decided_by.get_username()}")
        if item.decision_note:
            lines.append(f"{_('Decision note')}: {item.decision_note}")
        if item.status == RequestStatus.APPROVED:
            lines.append(f"{_('Downloads')}: {item.download_count} ({_when(item.last_downloaded_at)})")
        lines += ["", f"{_('Purpose')}:", item.purpose, "", f"{_('Variables')}:"]
        lines += [f"  {variable}" for variable in item.variables]
        lines += ["", f"{_('Cohort')}:"]
        lines += [f"  {label}: {value}" for label, value in selection.describe_cohort(item.cohort, dictionary)]
        lines.append(f"  {_('Cases it selects today')}: {services.cohort_size(item)}")
        lines += ["", f"{_('History')}:"]
        for h in services.history(item):
            note = f" — {h['note']}" if h["note"] else ""
            lines.append(f"  {_when(h['when'])}  {h['who']}: {h['event']}{note}")
        self.stdout.write("\n".join(lines))
