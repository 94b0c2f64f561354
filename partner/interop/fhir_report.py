"""The report of a FHIR import: what became of each resource of the bundle.

One line per value taken (the resource and element it came from, the form and field it went to),
per element or resource left out (and why), per value taken otherwise than the bundle gave it (a drug
the dictionary does not list, recorded as another treatment), per quality finding raised on the new
case, and per error that refused the import. As CSV, the columns of `HEADER`; as JSON, `as_json()`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from partner.dictionary.loader import Dictionary

from .export_cells import neutralised
from .fhir_bundle import BundleReader, Record
from .fhir_treatments_in import name_of

TAKEN = "taken"
TAKEN_OTHERWISE = "taken otherwise"
LEFT_OUT = "left out"
FINDING = "finding"
REFUSED = "refused"
HEADER = ["outcome", "resource", "element", "field", "value", "severity", "message"]

_PEOPLE = gettext_noop("the registry holds no people: only the child's pseudonymous case")
_PLACES = gettext_noop("the case's centre is the import's, not the bundle's organisations and locations")
#: Why a resource the registry has no use for is left out, by its type.
_NOT_HELD = {
    "Practitioner": _PEOPLE,
    "PractitionerRole": _PEOPLE,
    "RelatedPerson": _PEOPLE,
    "Organization": _PLACES,
    "Location": _PLACES,
    "Condition": gettext_noop("not the case's tumour: one case is one primary cancer condition"),
}
_NO_FIELD = gettext_noop("no field of the data dictionary takes it")


@dataclass(frozen=True)
class ReportLine:
    outcome: str
    resource: str = ""
    element: str = ""
    field: str = ""
    value: str = ""
    severity: str = ""
    message: str = ""


@dataclass
class BundleReport:
    source: str
    centre: str = ""
    case: int | None = None
    #: False when the bundle could not be read at all (not JSON FHIR R4): nothing of it is listed.
    readable: bool = True
    lines: list[ReportLine] = field(default_factory=list)

    def of(self, outcome: str) -> list[ReportLine]:
        return [line for line in self.lines if line.outcome == outcome]

    def refuse(self, message: str, **where: str) -> None:
        self.lines.append(ReportLine(REFUSED, severity="error", message=message, **where))

    def as_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "centre": self.centre,
            "case": self.case,
            "taken": [_without_outcome(line) for line in self.of(TAKEN)],
            "taken_otherwise": [_without_outcome(line) for line in self.of(TAKEN_OTHERWISE)],
            "left_out": [_without_outcome(line) for line in self.of(LEFT_OUT)],
            "findings": [_without_outcome(line) for line in self.of(FINDING)],
            "refused": [_without_outcome(line) for line in self.of(REFUSED)],
        }

    def as_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(HEADER)
        for line in self.lines:
            # The bundle's own text that a spreadsheet would run as a formula is written as text.
            writer.writerow([neutralised(getattr(line, name)) for name in HEADER])
        return out.getvalue()

    def write(self, target: Path) -> None:
        """The report as JSON for a .json file, else as CSV."""
        if target.suffix.lower() == ".json":
            target.write_text(json.dumps(self.as_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        else:
            target.write_text(self.as_csv(), encoding="utf-8")


def _without_outcome(line: ReportLine) -> dict[str, str]:
    data = asdict(line)
    del data["outcome"]
    return data


def text_of(value: Any) -> str:
    if isinstance(value, list):
        return "|".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def field_label(dictionary: Dictionary, form: str, number: int, name: str) -> str:
    """A field as the report names it: "diagnosis.tnm_t", "treatment 2.surgery_type"."""
    repeating = form in dictionary.form_by_code and dictionary.form_by_code[form].repeating
    return f"{form} {number}.{name}" if repeating else f"{form}.{name}"


def split_source(source: str) -> tuple[str, str]:
    """A value's source ("Procedure <url>: code") as its resource and its element."""
    resource, _sep, element = source.partition(": ")
    return resource, element


def reading_lines(reader: BundleReader, records: dict[tuple[str, int], Record]) -> list[ReportLine]:
    """The values taken and the elements and resources left out, from a reader that has read its bundle."""
    named = {f"{r['resourceType']} {reader.labels[id(r)]}": r for r in reader.resources}
    used: set[int] = set(reader.covered) | set(reader.record_of)  # a line's second drug is in the first's record
    lines: list[ReportLine] = []
    for (form, number), record in records.items():
        for name, value in record.values.items():
            label, element = split_source(record.sources.get(name, record.source))
            if label in named:
                used.add(id(named[label]))
            lines.append(
                ReportLine(TAKEN, label, element, field_label(reader.dictionary, form, number, name), text_of(value))
            )
    explained: set[int] = set()
    for resource, element, value, why, kept in reader.left_out:
        explained.add(id(resource))
        label = f"{resource['resourceType']} {reader.labels[id(resource)]}"
        lines.append(ReportLine(TAKEN_OTHERWISE if kept else LEFT_OUT, label, element, "", value, "", why))
    for resource in reader.resources:
        if id(resource) in used or id(resource) in explained:
            continue
        kind = resource["resourceType"]
        why = _(_NOT_HELD.get(kind, _NO_FIELD))
        code = resource.get("code") if isinstance(resource.get("code"), dict) else None
        lines.append(ReportLine(LEFT_OUT, f"{kind} {reader.labels[id(resource)]}", "", "", name_of(code), "", why))
    return lines


def finding_lines(case: Any, source_of: Callable[[str, int, str], str], dictionary: Dictionary) -> list[ReportLine]:
    """The quality findings open on the new case, each at the element of the bundle its value came from."""
    from partner.quality.registry import rule_by_code
    from partner.quality.services import open_findings

    rules = rule_by_code(dictionary)
    lines = []
    for finding in open_findings(case):
        form, _dot, name = finding.field.partition(".")
        resource, element = split_source(source_of(form, finding.row or 1, name))
        rule = rules.get(finding.rule)
        message = rule.text(dictionary) if rule else finding.rule
        label = field_label(dictionary, form, finding.row or 1, name)
        lines.append(ReportLine(FINDING, resource, element, label, finding.values, finding.severity, message))
    return lines


def where_of(line: ReportLine) -> str:
    return ": ".join(p for p in (line.resource, line.element) if p)


def summary(report: BundleReport) -> list[str]:
    """The report as lines of text for a terminal: every line of it, grouped by outcome."""
    out: list[str] = []
    taken = report.of(TAKEN)
    if taken:
        out.append(f"taken: {len(taken)} values")
        out += [f"  {line.field} = {line.value}  <- {where_of(line)}" for line in taken]
    for outcome in (TAKEN_OTHERWISE, LEFT_OUT):
        lines = report.of(outcome)
        if lines:
            out.append(f"{outcome}: {len(lines)}")
            out += [
                f"  {where_of(line)}" + (f" ({line.value})" if line.value else "") + f": {line.message}"
                for line in lines
            ]
    findings = report.of(FINDING)
    if report.case is not None:
        out.append(f"quality findings: {len(findings)}")
        out += [
            f"  {line.field} [{line.severity}] {line.message} ({line.value}) <- {where_of(line)}" for line in findings
        ]
    return out


def refusal(report: BundleReport) -> str:
    """Why the import was refused, in one line: each error with its field and the element it came from."""
    return "; ".join(
        (f"{line.field}: " if line.field else "")
        + line.message
        + (f" (from {where_of(line)})" if line.resource else "")
        for line in report.of(REFUSED)
    )
