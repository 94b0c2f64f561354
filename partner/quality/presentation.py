"""Findings as a reader sees them: the rule's message and the field's label in their language."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from partner.dictionary.loader import Dictionary

from .models import Finding
from .registry import rule_by_code
from .rules.base import SEVERITIES, field_label


@dataclass(frozen=True)
class Shown:
    finding: Finding
    message: str
    label: str
    severity: str
    source: str

    @property
    def confirmable(self) -> bool:
        return self.finding.severity != "error" and self.finding.status == "open"


def shown(findings: Iterable[Finding], dictionary: Dictionary) -> list[Shown]:
    rules = rule_by_code(dictionary)
    result = []
    for f in findings:
        rule = rules.get(f.rule)
        result.append(
            Shown(
                finding=f,
                message=rule.text(dictionary) if rule else f.rule,
                label=field_label(f.field, dictionary) + (f" #{f.row}" if f.row else ""),
                severity=str(SEVERITIES.get(f.severity, f.severity)),
                source=rule.source if rule else "",
            )
        )
    return result
