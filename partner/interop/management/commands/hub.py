"""partner hub push: send this national node's validated cases, and its withdrawals of consent, to the European hub."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from partner.interop.hub import PushFailed, changed_cases, pending_withdrawals, report_lines, send
from partner.interop.models import PushedCase

SHOWN = 20


class Command(BaseCommand):
    help = (
        "Send the cases validated since the last push, and the withdrawals of consent of cases sent before, "
        "to the European hub (idempotent; a receipt each time)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        push = sub.add_parser("push", help="send what changed since the last push")
        push.add_argument("--to", required=True, help="the hub's address, e.g. https://hub.example.org")
        push.add_argument(
            "--token-file",
            type=Path,
            default=os.environ.get("PARTNER_HUB_TOKEN_FILE"),
            help="file holding this node's API token at the hub (default: $PARTNER_HUB_TOKEN_FILE)",
        )
        push.add_argument("--dry-run", action="store_true", help="list what would be sent, send nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        hub = options["to"].rstrip("/")
        already = dict(PushedCase.objects.filter(hub=hub).values_list("case_id", "content_hash"))
        changes = changed_cases(already)
        withdrawals = pending_withdrawals(hub)
        if not changes and not withdrawals:
            self.stdout.write(f"nothing to send to {hub}: every validated case is there as it is here")
            return
        if options["dry_run"]:
            self.stdout.write(f"would send {len(changes)} cases and {len(withdrawals)} withdrawals of consent to {hub}")
            return
        if options["token_file"] is None:
            raise CommandError("give the node's token: --token-file FILE or PARTNER_HUB_TOKEN_FILE")
        try:
            token = Path(options["token_file"]).read_text().strip()
        except OSError as exc:
            raise CommandError(f"{options['token_file']}: cannot read the token ({exc.strerror})") from None
        try:
            answer = send(hub, token, [payload for _case, payload, _hash in changes], [w for _w, w in withdrawals])
        except PushFailed as exc:
            raise CommandError(str(exc)) from None
        if answer.status != 200:
            lines = report_lines(p for p in answer.body.get("problems", []) if p.get("blocking", True))
            for line in lines[:SHOWN]:
                self.stderr.write(line)
            raise CommandError(f"the hub refused the push ({answer.status}): {answer.body.get('detail', '')}")
        body = answer.body
        receipt = body["receipt"]
        taken = {(w["centre"], w["external_id"]) for w in body.get("withdrawals", [])}
        with transaction.atomic():
            for case, _payload, fingerprint in changes:
                PushedCase.objects.update_or_create(
                    case=case, hub=hub, defaults={"content_hash": fingerprint, "receipt": receipt}
                )
            for withdrawal, sent in withdrawals:
                if (sent["centre"], sent["external_id"]) in taken:
                    PushedCase.objects.filter(case_id=withdrawal.case_id, hub=hub).update(withdrawal_receipt=receipt)
        self.stdout.write(
            f"receipt {receipt}: {body['received']} cases received by {hub} "
            f"({body['created']} new, {body['updated']} updated, {body['unchanged']} unchanged; "
            f"{len(body['findings'])} quality findings there)"
        )
        if withdrawals:
            erased = sum(1 for w in body.get("withdrawals", []) if w["erased"])
            self.stdout.write(f"{len(taken)} withdrawals of consent taken by the hub ({erased} erased there):")
            for w in body.get("withdrawals", [])[:SHOWN]:
                done = "erased" if w["erased"] else "kept out of analyses"
                self.stdout.write(f"  {w['external_id']} ({w['centre']}), withdrawn on {w['withdrawn_on']}: {done}")
            if len(taken) > SHOWN:
                self.stdout.write(f"  and {len(taken) - SHOWN} more")
        missed = [sent for _w, sent in withdrawals if (sent["centre"], sent["external_id"]) not in taken]
        if missed:
            raise CommandError(
                f"the hub's receipt does not list {len(missed)} of the withdrawals sent "
                f"({', '.join(w['external_id'] for w in missed[:SHOWN])}): they will be sent again with the next push"
            )
