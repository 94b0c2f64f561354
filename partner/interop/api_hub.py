"""The European hub's end of a national push (mounted at /api/hub): the same import, the same rules, a receipt."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from ninja import Router, Schema, Status

from partner.accounts.auth import API_AUTH
from partner.accounts.security import is_coordinator

from .hub import digest
from .importing import import_cases
from .models import PushReceipt
from .tables import Table

router = Router(tags=["hub"], auth=API_AUTH)


class PushIn(Schema):
    digest: str
    cases: list[dict[str, Any]]


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


@router.post("/push", response={200: dict[str, Any], 403: Error, 422: dict[str, Any]}, summary="Receive a node's cases")
def push(request: HttpRequest, payload: PushIn) -> Any:
    user: Any = request.user
    if not is_coordinator(user):
        return Status(403, {"detail": "only a national node's coordinator account pushes cases"})
    if digest(payload.cases) != payload.digest:
        return Status(
            422, {"detail": "the cases do not match the push's digest: the payload was altered", "problems": []}
        )
    earlier = PushReceipt.objects.filter(digest=payload.digest, user=user).first()
    if earlier is not None:  # a retry after a lost answer: the same receipt, nothing imported twice
        return Status(200, earlier.answer)
    if not payload.cases:
        return Status(422, {"detail": "no case in the push", "problems": []})
    table = as_table(payload.cases, f"push from {user.username}")
    ids = {number: case.get("external_id", "") for number, case in enumerate(payload.cases, start=2)}
    with transaction.atomic():
        result = import_cases(table, user=user, status="submitted")
        problems = [
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
        if not result.committed:
            return Status(422, {"detail": f"nothing received: {len(result.errors)} errors", "problems": problems})
        answer = {
            "digest": payload.digest,
            "received": len(payload.cases),
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "findings": problems,
        }
        try:
            with transaction.atomic():
                receipt = PushReceipt.objects.create(digest=payload.digest, user=user, answer=answer)
        except IntegrityError:  # the same push, arrived twice at once: the first one's receipt stands
            transaction.set_rollback(True)
            return Status(200, PushReceipt.objects.get(digest=payload.digest, user=user).answer)
        answer["receipt"] = receipt.pk
        PushReceipt.objects.filter(pk=receipt.pk).update(answer=answer)
    return Status(200, answer)
