"""The European hub's end of a national push (mounted at /api/hub): the same import, the same rules, a receipt.

The push's cases are imported as a file is; its withdrawals of consent are recorded through the
registry's one path for a withdrawal, each case found by centre and identifier in the pushing
coordinator's scope and its pseudonym checked. Cases and withdrawals are one transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from partner.accounts.auth import API_AUTH
from partner.accounts.security import is_coordinator
from partner.cases.consent import AlreadyWithdrawn, withdraw_consent
from partner.cases.guard import ChangeRefused
from partner.cases.models import ConsentWithdrawal, TumourCase

from .hub import digest
from .importing import import_cases
from .models import PushReceipt
from .tables import Table

router = Router(tags=["hub"], auth=API_AUTH)


class PushIn(Schema):
    digest: str = Field(description="SHA-256 of the canonical JSON of the cases, or of {cases, withdrawals}")
    cases: list[dict[str, Any]]
    withdrawals: list[dict[str, Any]] = Field(
        default_factory=list,
        description=(
            "withdrawals of consent of cases pushed before, each "
            '{"centre", "external_id", "pseudonym", "withdrawn_on": "YYYY-MM-DD", "erased": true|false}'
        ),
    )


class Error(Schema):
    detail: str


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "|".join(str(v) for v in value)
    return "" if value is None else str(value)


def as_table(cases: list[dict[str, Any]], source: str) -> Table:
    """The pushed cases as the rows of an import file: one row per case, one column per value."""
    rows = []
    for number, case in enumerate(cases, start=2):
        row = {
            k: _text(case.get(k)) for k in ("external_id", "centre", "pseudonym", "linkage_encoding", "linkage_schema")
        }
        for form, values in (case.get("forms") or {}).items():
            if isinstance(values, list):
                for i, line in enumerate(values, start=1):
                    row.update({f"{form}.{i}.{k}": _text(v) for k, v in line.items()})
            elif isinstance(values, dict):
                row.update({k: _text(v) for k, v in values.items()})
        rows.append((number, row))
    fixed = ["external_id", "centre", "pseudonym", "linkage_encoding", "linkage_schema"]
    columns = fixed + sorted({c for _n, row in rows for c in row} - set(fixed))
    return Table(source, columns, [(n, {c: row.get(c, "") for c in columns}) for n, row in rows])


@dataclass(frozen=True)
class Found:
    """A withdrawal whose case the hub holds: the case, as the node named it, since when, and whether to erase."""

    case: TumourCase
    external_id: str
    withdrawn_on: dt.date
    erase: bool


def _problem(external_id: Any, column: str, value: Any, message: str) -> dict[str, Any]:
    return {
        "external_id": _text(external_id),
        "column": column,
        "value": _text(value)[:80],
        "severity": "error",
        "rule": "withdrawal",
        "message": message,
        "blocking": True,
    }


def _checked(w: dict[str, Any]) -> tuple[str, str, str, dt.date, bool] | dict[str, Any]:
    """A withdrawal's centre, identifier, pseudonym, date and erasure; or the problem with it."""
    named = [w.get(k) for k in ("centre", "external_id", "pseudonym")]
    external_id = w.get("external_id")
    for key, value in zip(("centre", "external_id", "pseudonym"), named, strict=True):
        if not value or not isinstance(value, str):
            return _problem(external_id, key, value, "a withdrawal names its case by centre, external_id and pseudonym")
    try:
        withdrawn_on = dt.date.fromisoformat(w.get("withdrawn_on"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return _problem(external_id, "withdrawn_on", w.get("withdrawn_on"), "the date of withdrawal is not YYYY-MM-DD")
    if not isinstance(w.get("erased"), bool):
        return _problem(external_id, "erased", w.get("erased"), "erased is true or false")
    centre, identifier, pseudonym = (str(v) for v in named)
    return centre.strip().upper(), identifier, pseudonym, withdrawn_on, w["erased"]


def _withdrawals_found(
    withdrawals: list[dict[str, Any]], cases: list[dict[str, Any]], user: Any
) -> tuple[list[Found], list[dict[str, Any]]]:
    """Each withdrawal's case at the hub, in the user's scope, with a matching pseudonym; or the problems."""
    found: list[Found] = []
    problems: list[dict[str, Any]] = []
    sent = {(_text(c.get("centre")).strip().upper(), _text(c.get("external_id"))) for c in cases}
    seen: set[tuple[str, str]] = set()
    visible = TumourCase.objects.restrict(user).select_related("patient", "centre").exclude(external_id="")
    for w in withdrawals:
        checked = _checked(w)
        if isinstance(checked, dict):
            problems.append(checked)
            continue
        centre, external_id, pseudonym, withdrawn_on, erase = checked
        key = (centre, external_id)
        if key in seen or key in sent:
            twice = "withdrawn twice" if key in seen else "both sent and withdrawn"
            problems.append(_problem(external_id, "external_id", external_id, f"the case is {twice} in this push"))
            continue
        seen.add(key)
        case = visible.filter(centre__code=centre, external_id=external_id).first()
        if case is None:
            message = f"no case with this identifier at {centre} that you may change"
            problems.append(_problem(external_id, "external_id", external_id, message))
        elif case.patient.pseudonym != pseudonym:
            problems.append(_problem(external_id, "pseudonym", "", "the pseudonym is not that of this case at the hub"))
        else:
            found.append(Found(case, external_id, withdrawn_on, erase))
    return found, problems


def _withdraw(found: list[Found], user: Any, push: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Record each withdrawal; one the hub already holds counts as taken. Returns (taken, problems)."""
    taken: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    for f in found:
        earlier = False
        try:
            withdrawal = withdraw_consent(
                case=f.case,
                withdrawn_on=f.withdrawn_on,
                erase=f.erase,
                user=user,
                reason=f"withdrawn at the national node, push {push}",
            )
        except AlreadyWithdrawn:
            withdrawal = ConsentWithdrawal.objects.get(case=f.case)
            earlier = True
        except ChangeRefused as refused:  # the case's guard refused: the actor's role, the case's state
            problems.append(_problem(f.external_id, "external_id", f.external_id, str(refused)))
            continue
        if f.erase and not withdrawal.erased:
            message = (
                "the node erased this case, but its consent was withdrawn here without erasure: "
                "erase it at the hub, then push again"
            )
            problems.append(_problem(f.external_id, "erased", "true", message))
            continue
        taken.append(
            {
                "centre": f.case.centre.code,
                "external_id": f.external_id,
                "withdrawn_on": withdrawal.withdrawn_on.isoformat(),
                "erased": withdrawal.erased,
                "earlier": earlier,
            }
        )
    return taken, problems


@router.post(
    "/push",
    response={200: dict[str, Any], 403: Error, 422: dict[str, Any]},
    summary="Receive a node's cases and withdrawals of consent",
)
def push(request: HttpRequest, payload: PushIn) -> Any:
    user: Any = request.user
    if not is_coordinator(user):
        return Status(403, {"detail": "only a national node's coordinator account pushes cases"})
    # The digest is checked before a receipt is looked up: an altered payload under a receipted digest is refused.
    if digest(payload.cases, payload.withdrawals) != payload.digest:
        return Status(
            422,
            {
                "detail": "the cases and withdrawals do not match the push's digest: the payload was altered",
                "problems": [],
            },
        )
    earlier = PushReceipt.objects.filter(digest=payload.digest, user=user).first()
    if earlier is not None:  # a retry after a lost answer: the same receipt, nothing recorded twice
        return Status(200, earlier.answer)
    if not payload.cases and not payload.withdrawals:
        return Status(422, {"detail": "no case and no withdrawal in the push", "problems": []})
    with transaction.atomic():
        found, problems = _withdrawals_found(payload.withdrawals, payload.cases, user)
        imported = {"created": 0, "updated": 0, "unchanged": 0}
        findings: list[dict[str, Any]] = []
        if payload.cases:
            table = as_table(payload.cases, f"push from {user.username}")
            ids = {number: case.get("external_id", "") for number, case in enumerate(payload.cases, start=2)}
            result = import_cases(table, user=user, status="submitted")
            findings = [
                {
                    "external_id": ids.get(p.row, ""),
                    "column": p.column,
                    "value": p.value,
                    "severity": p.severity,
                    "rule": p.rule,
                    "message": p.message,
                    "blocking": p.blocking,
                }
                for p in result.problems
            ]
            imported = {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}
            if not result.committed:
                problems = findings + problems
        taken: list[dict[str, Any]] = []
        if not problems:
            taken, problems = _withdraw(found, user, payload.digest)
        if problems:
            transaction.set_rollback(True)
            errors = sum(1 for p in problems if p["blocking"])
            return Status(422, {"detail": f"nothing received: {errors} errors", "problems": problems})
        answer = {
            "digest": payload.digest,
            "received": len(payload.cases),
            **imported,
            "findings": findings,
            "withdrawals": taken,
        }
        # The receipt last: a push cut off before it keeps nothing, and its retry is received anew.
        try:
            with transaction.atomic():
                receipt = PushReceipt.objects.create(digest=payload.digest, user=user, answer=answer)
        except IntegrityError:  # the same push, arrived twice at once: the first one's receipt stands
            transaction.set_rollback(True)
            return Status(200, PushReceipt.objects.get(digest=payload.digest, user=user).answer)
        answer["receipt"] = receipt.pk
        PushReceipt.objects.filter(pk=receipt.pk).update(answer=answer)
    return Status(200, answer)
