"""Running quality control and keeping its findings: on a save, over a country, over the registry.

The rules find what is wrong now; `record_findings` turns that into stored findings, in one
transaction: a new failure opens a finding, a failure that went away resolves it, a confirmed
finding stays confirmed (the same values are never raised again), a resolved one that fails again
reopens.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from partner.cases.models import TumourCase
from partner.dictionary.loader import Dictionary

from . import snapshots
from .engine import context_for, run_rules
from .models import Finding, FindingStatus, values_key
from .registry import registry_rules
from .rules.base import ERROR, Rule


@dataclass(frozen=True)
class QcRun:
    cases: int
    found: pd.DataFrame  # every failure now, confirmed or not (see partner.quality.engine)
    opened: int
    reopened: int
    resolved: int

    def by_severity(self) -> dict[str, int]:
        return {str(k): int(v) for k, v in self.found["severity"].value_counts().items()}


@transaction.atomic
def record_findings(found: pd.DataFrame, cases: Any, user: Any = None) -> tuple[int, int, int]:
    """Store what the rules found for these cases (a queryset); returns (opened, reopened, resolved)."""
    now = timezone.now()
    stored = {
        (f.case_id, f.rule, f.row, f.values_key): f
        for f in Finding.objects.filter(case__in=cases.values("pk")).only(
            "id", "case_id", "rule", "row", "values_key", "status", "resolved"
        )
    }
    keys = [values_key(v) for v in found["values"]]
    current = set()
    new, reopen = [], []
    rows: list[Any] = found[["case_id", "rule", "instance", "severity", "field", "values"]].values.tolist()
    for (case_id, rule, instance, severity, field, values), key in zip(rows, keys, strict=True):
        ident = (int(case_id), str(rule), int(instance), key)
        current.add(ident)
        existing = stored.get(ident)
        if existing is None:
            new.append(
                Finding(
                    case_id=ident[0],
                    rule=ident[1],
                    severity=severity,
                    field=field,
                    row=ident[2],
                    values=values,
                    values_key=key,
                )
            )
        elif existing.status == FindingStatus.RESOLVED:
            existing.status, existing.resolved = FindingStatus.OPEN, None
            reopen.append(existing)
    gone = [f for ident, f in stored.items() if ident not in current and f.status == FindingStatus.OPEN]
    for finding in gone:
        finding.status, finding.resolved = FindingStatus.RESOLVED, now
    if new:
        bulk_create_with_history(new, Finding, batch_size=2000, default_user=user, default_date=now)
    changed = reopen + gone
    if changed:
        bulk_update_with_history(
            changed, Finding, ["status", "resolved"], batch_size=2000, default_user=user, default_date=now
        )
    snapshots.changed()  # bulk writes send no signal
    return len(new), len(reopen), len(gone)


def check_cases(
    cases: Any,
    *,
    user: Any = None,
    today: dt.date | None = None,
    progress: Callable[[Rule], None] | None = None,
    dictionary: Dictionary | None = None,
) -> QcRun:
    """Run every rule over these cases (a queryset, already scoped by the caller) and store the findings."""
    ctx = context_for(cases, dictionary=dictionary, today=today)
    found = run_rules(ctx, registry_rules(ctx.dictionary), progress=progress)
    opened, reopened, resolved = record_findings(found, cases, user)
    return QcRun(len(ctx.cases), found, opened, reopened, resolved)


def check_case(case: TumourCase, user: Any = None) -> list[Finding]:
    """Run every rule over one case, at its save; its open findings, most serious first."""
    check_cases(TumourCase.objects.filter(pk=case.pk), user=user)
    return open_findings(case)


def open_findings(case: TumourCase) -> list[Finding]:
    order = {"error": 0, "warning": 1, "query": 2}
    found = list(case.findings.filter(status=FindingStatus.OPEN))
    return sorted(found, key=lambda f: (order.get(f.severity, 3), f.field, f.row, f.rule))


def blocking_errors(case: TumourCase) -> list[Finding]:
    """Open error findings: a case with any cannot be submitted or validated."""
    return [f for f in open_findings(case) if f.severity == ERROR]


@transaction.atomic
def confirm(finding: Finding, user: Any, reason: str) -> Finding:
    """The value is right: keep it, with the reason, and never raise this finding again for these values."""
    finding = Finding.objects.select_for_update(of=("self",)).select_related("case").get(pk=finding.pk)
    if not TumourCase.objects.restrict(user).filter(pk=finding.case_id).exists():
        raise PermissionDenied
    if finding.severity == ERROR:
        raise ValidationError(_("An error cannot be confirmed: the value must be corrected."))
    if not reason.strip():
        raise ValidationError(_("Say why the value is right."))
    if finding.status != FindingStatus.OPEN:
        raise ValidationError(_("Only an open finding can be confirmed."))
    finding.status = FindingStatus.CONFIRMED
    finding.confirmed_by = user
    finding.confirmed_at = timezone.now()
    finding.reason = reason.strip()
    finding._history_user = user  # type: ignore[attr-defined]
    finding.save()
    return finding
