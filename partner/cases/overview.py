"""A case's forms at a glance: each with its rows and a status, computed by the dictionary's own validation."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from partner.dictionary.loader import Dictionary
from partner.dictionary.schema import FormDef

from .models import FormRecord, TumourCase
from .validation import validate_case

COMPLETE = "complete"
INCOMPLETE = "incomplete"
ERRORS = "errors"
NOT_STARTED = "not_started"
LABELS = {
    COMPLETE: _("complete"),
    INCOMPLETE: _("incomplete"),
    ERRORS: _("with errors"),
    NOT_STARTED: _("not started"),
}


@dataclass(frozen=True)
class FormStatus:
    code: str
    label: str
    repeating: bool
    rows: int
    status: str
    missing: int  # required answers that apply and are not given
    errors: int  # values the dictionary refuses, open error findings and open queries

    @property
    def status_label(self) -> str:
        return str(LABELS[self.status])


def case_forms(d: Dictionary, entity: str | None) -> list[FormDef]:
    """The case's forms in reading order: core forms, the entity's module after the diagnosis, then the rest."""
    modules = [f for f in d.forms if f.is_module and entity is not None and entity in f.entities]
    out: list[FormDef] = []
    for form in d.forms:
        if form.is_module:
            continue
        out.append(form)
        if form.code == "diagnosis":
            out.extend(modules)
    return out


def form_statuses(d: Dictionary, case: TumourCase, records: list[FormRecord], lang: str) -> list[FormStatus]:
    """Every form of the case with its status.

    Complete: every required answer that applies is given and nothing is refused. Incomplete: required
    answers are missing. With errors: the dictionary refuses a value, or an open error finding or an
    open query is on the form. Not started: no record.
    """
    forms = case_forms(d, case.entity.code if case.entity else None)
    stored: dict[str, list[dict[str, Any]]] = {}
    for record in sorted(records, key=lambda r: r.number):
        computed = {f.code for f in d.form_by_code[record.form.code].fields if f.computed}
        stored.setdefault(record.form.code, []).append({k: v for k, v in record.values.items() if k not in computed})
    shown = {f.code for f in forms}
    values = {
        code: rows if d.form_by_code[code].repeating else rows[0] for code, rows in stored.items() if code in shown
    }
    pseudonym = case.patient.pseudonym
    _cleaned, refused = validate_case(d, values, partial=True, pseudonym=pseudonym)
    _cleaned, strict = validate_case(d, values, partial=False, pseudonym=pseudonym)
    wrong = Counter(e.form for e in refused)
    missing = Counter(e.form for e in strict if e not in refused)
    flagged: Counter[str] = Counter()
    findings = case.findings.filter(status="open", severity="error")  # type: ignore[attr-defined]
    queries = case.queries.filter(status="open")  # type: ignore[attr-defined]
    for field in [*findings.values_list("field", flat=True), *queries.values_list("field", flat=True)]:
        flagged[field.partition(".")[0]] += 1
    out = []
    for form in forms:
        rows = len(stored.get(form.code, []))
        errors = wrong[form.code] + flagged[form.code]
        if errors:
            status = ERRORS
        elif not rows:
            status = NOT_STARTED
        elif missing[form.code]:
            status = INCOMPLETE
        else:
            status = COMPLETE
        out.append(
            FormStatus(form.code, form.labels.get(lang), form.repeating, rows, status, missing[form.code], errors)
        )
    return out
