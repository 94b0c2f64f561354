"""A national node sends its validated, pseudonymised cases to the European hub.

Node side, `partner hub push`: the cases validated or locked since the last push (their content
changed, or never sent) go in one request to the hub's REST API, authenticated by the node's token.
The hub checks them with the same import and the same quality rules as a file (all or nothing) and
answers with a receipt, or with the same report an import gives. A dropped connection is retried
with the very same payload: the hub recognises its digest and answers the receipt it already gave,
so a retry never imports twice.

A push also carries the withdrawals of consent of cases the hub received before and has not yet
taken as withdrawn: each by the case's centre, identifier and pseudonym, with the date of withdrawal
and whether the node erased the clinical data. The hub records each through the registry's one path
for a withdrawal (erasing when the node erased), in the same transaction as the push's cases, and
its receipt lists the withdrawals it took. A push may carry withdrawals alone. The digest covers
them: a push without withdrawals has the digest of its cases alone, as before withdrawals travelled.

Names never travel: a case is its pseudonym, its linkage encoding, its centre and identifier, and
its form values.
"""

from __future__ import annotations

import hashlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from partner.cases.models import ConsentWithdrawal, Status, TumourCase
from partner.cases.services import current_forms
from partner.dictionary.loader import Dictionary, get_dictionary

from .models_hub import PushedCase

#: Statuses a node sends: the national coordinator has validated the case.
SENT = (Status.VALIDATED, Status.LOCKED)
RETRIES = 4


class PushFailed(Exception):
    """The hub could not be reached after the retries, or answered with an error that is not a report."""


def sent_id(case: TumourCase) -> str:
    """The case's identifier as the hub knows it: its identifier at the source, or one made of centre and number."""
    return case.external_id or f"{case.centre.code}-{case.pk}"


def case_payload(case: TumourCase, dictionary: Dictionary) -> dict[str, Any]:
    """One case as the hub receives it: identifiers, pseudonym, encoding and the form values."""
    linkage = getattr(case.patient, "linkage", None)
    forms = current_forms(dictionary, case)
    registration = forms.get("registration", {})
    registration.pop("pseudonym", None)
    return {
        "external_id": sent_id(case),
        "centre": case.centre.code,
        "pseudonym": case.patient.pseudonym,
        "linkage_encoding": linkage.encoding if linkage else "",
        "linkage_schema": linkage.schema_version if linkage else "",
        "forms": forms,
    }


def content_hash(value: Any) -> str:
    """SHA-256 of the value's canonical JSON: a case's content, or a push's cases (its `digest`)."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def digest(cases: list[dict[str, Any]], withdrawals: list[dict[str, Any]] | None = None) -> str:
    """The push's identity: the same cases and withdrawals in the same order give the same digest.

    Without withdrawals it is the digest of the cases alone, so receipts given before withdrawals
    travelled still answer a retry.
    """
    if not withdrawals:
        return content_hash(cases)
    return content_hash({"cases": cases, "withdrawals": withdrawals})


def withdrawal_payload(withdrawal: ConsentWithdrawal) -> dict[str, Any]:
    """A withdrawal as the hub receives it: which case, since when, and whether the node erased it."""
    case = withdrawal.case
    return {
        "centre": case.centre.code,
        "external_id": sent_id(case),
        "pseudonym": case.patient.pseudonym,
        "withdrawn_on": withdrawal.withdrawn_on.isoformat(),
        "erased": withdrawal.erased,
    }


def pending_withdrawals(hub: str) -> list[tuple[ConsentWithdrawal, dict[str, Any]]]:
    """The withdrawals of cases the hub received (a PushedCase) that it has not yet taken."""
    waiting = PushedCase.objects.filter(hub=hub, withdrawal_receipt__isnull=True).values("case_id")
    found = (
        ConsentWithdrawal.objects.filter(case_id__in=waiting)
        .select_related("case__centre", "case__patient")
        .order_by("case_id")
    )
    return [(w, withdrawal_payload(w)) for w in found]


def changed_cases(
    already: dict[int, str], dictionary: Dictionary | None = None
) -> list[tuple[TumourCase, dict[str, Any], str]]:
    """The node's validated cases whose content differs from what the hub last received (`already`: case id -> hash)."""
    d = dictionary or get_dictionary()
    out = []
    cases = TumourCase.objects.filter(status__in=SENT).for_analysis().select_related("patient", "centre").order_by("pk")
    for case in cases:
        payload = case_payload(case, d)
        fingerprint = content_hash(payload)
        if already.get(case.pk) != fingerprint:
            out.append((case, payload, fingerprint))
    return out


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


def send(
    url: str,
    token: str,
    cases: list[dict[str, Any]],
    withdrawals: list[dict[str, Any]] | None = None,
    *,
    timeout: float = 60,
    retries: int = RETRIES,
    wait: Callable[[float], None] = time.sleep,
) -> Answer:
    """POST the cases and withdrawals to the hub's push endpoint; retried on dropped connections and server errors."""
    withdrawals = withdrawals or []
    push = {"digest": digest(cases, withdrawals), "cases": cases, "withdrawals": withdrawals}
    body = json.dumps(push, ensure_ascii=False).encode()
    request = urllib.request.Request(
        url.rstrip("/") + "/api/hub/push",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    problem = ""
    for attempt in range(retries + 1):
        if attempt:
            wait(min(30.0, 2.0**attempt))
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return Answer(response.status, json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                try:
                    return Answer(exc.code, json.loads(exc.read()))
                except ValueError:
                    raise PushFailed(f"the hub answered {exc.code} without a report") from None
            problem = f"the hub answered {exc.code}"
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
            problem = f"no answer from the hub ({getattr(exc, 'reason', exc)})"
    raise PushFailed(f"{problem}, after {retries + 1} attempts; nothing is lost: push again later")


def report_lines(problems: Iterable[dict[str, Any]]) -> list[str]:
    return [
        f"{p.get('external_id') or '-'}, {p['column']}: {p['message']}" + (f" ({p['value']})" if p.get("value") else "")
        for p in problems
    ]
