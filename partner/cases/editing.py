"""Saving a whole case from its edit page: every form, repeating rows added and removed, one transaction.

The editor posts what it saw (each record's number and version). If any of those records changed
since, nothing is saved and `EditConflict` carries both versions, so the page can show them side by
side: a save never silently overwrites a newer one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from partner.dictionary.loader import Dictionary
from partner.dictionary.models import FormDefinition

from .guard import open_change
from .models import FormRecord, Status, TumourCase
from .saves import as_one_save
from .services import (
    CaseInvalid,
    FormError,
    classify_columns,
    record_change,
    validate_case,
)
from .validation import PATIENT_FIELDS


@dataclass(frozen=True)
class Row:
    """One submitted instance of a form: its record number if it exists already (else None) and its values."""

    number: int | None
    values: Mapping[str, Any]


@dataclass(frozen=True)
class Clash:
    """A record the editor read that changed (or disappeared) before their save."""

    form: str
    number: int
    seen_version: int
    saved: FormRecord | None  # None: deleted meanwhile
    mine: Mapping[str, Any] | None  # None: the editor removed this row


class EditConflict(Exception):
    def __init__(self, clashes: list[Clash]):
        self.clashes = clashes
        super().__init__(", ".join(f"{c.form} #{c.number}" for c in clashes))


@as_one_save
@transaction.atomic
def save_case(
    *,
    dictionary: Dictionary,
    case: TumourCase,
    forms: Mapping[str, Sequence[Row]],
    seen: Mapping[tuple[str, int], int],
    user: Any,
) -> list[str]:
    """Save the forms of an existing case; returns the records changed, as "form #n".

    `forms` holds, by form code, the rows the editor submitted; `seen` the version of every record
    the editor's page was built from. A record of a submitted form that the editor saw but did not
    submit is deleted (a removed treatment line). Forms not submitted at all are left alone.
    """
    case = open_change(user, case)
    stored = {(r.form.code, r.number): r for r in case.records.select_related("form").select_for_update(of=("self",))}
    submitted = {(code, row.number): row.values for code, rows in forms.items() for row in rows if row.number}
    clashes = []
    for key, version in seen.items():
        record = stored.get(key)
        if record is None or record.version != version:
            clashes.append(Clash(key[0], key[1], version, record, submitted.get(key)))
    for key in submitted:
        if key not in seen:
            raise CaseInvalid([FormError(key[0], key[1], "-", _("this record was not on the page you edited"))])
    if clashes:
        raise EditConflict(clashes)

    # Validate the whole case as it will be: the identifying fields and untouched forms as stored.
    values: dict[str, Any] = {}
    for form in dictionary.forms:
        code = form.code
        if code in forms:
            rows = [dict(row.values) for row in forms[code]]
            fixed = stored.get((code, 1))
            for typed in rows:
                for name in PATIENT_FIELDS if code == "registration" else ():
                    if fixed is not None and name in fixed.values:
                        typed[name] = fixed.values[name]
        elif form.is_module:
            # A stored module the page did not show: the corrected codes moved the case to another
            # entity. Its record stays (nothing typed is lost) but is no longer part of the case's checks.
            continue
        else:
            rows = [_editable(form, r.values) for (c, _n), r in sorted(stored.items()) if c == code]
        if rows:
            values[code] = rows if form.repeating else rows[0]
    cleaned, errors = validate_case(
        dictionary, values, partial=case.status == Status.DRAFT, pseudonym=case.patient.pseudonym
    )
    if errors:
        raise CaseInvalid(errors)

    changed: list[str] = []
    definitions = {f.code: f for f in FormDefinition.objects.filter(version=case.dictionary_version).only("id", "code")}
    for code, submitted_rows in forms.items():
        kept: set[int] = set()
        # A removed line's number is never given again (see add_record).
        used = [n for (c, n) in stored if c == code]
        used += FormRecord.history.filter(case_id=case.pk, form__code=code).values_list("number", flat=True)
        next_number = max(used, default=0) + 1
        for row, clean in zip(submitted_rows, cleaned.get(code, []), strict=False):
            if row.number is not None:
                record = stored[(code, row.number)]
                kept.add(row.number)
                if record.values != clean:
                    record.values = clean
                    record.version += 1
                    record._history_user = user  # type: ignore[attr-defined]
                    record.save()
                    changed.append(f"{code} #{record.number}")
            else:
                record = FormRecord(case=case, form=definitions[code], number=next_number, values=clean)
                record._history_user = user  # type: ignore[attr-defined]
                record.save()
                changed.append(f"{code} #{next_number}")
                next_number += 1
        for (c, number), record in stored.items():
            if c == code and (c, number) in seen and number not in kept:
                record._history_user = user  # type: ignore[attr-defined]
                record.delete()
                changed.append(f"{code} #{number} ({_('removed')})")

    diagnosis = (cleaned.get("diagnosis") or [{}])[0]
    registration = (cleaned.get("registration") or [{}])[0]
    if diagnosis.get("diagnosis_date") and diagnosis.get("morphology") and diagnosis.get("topography"):
        born = dt.date.fromisoformat(registration.get("date_of_birth") or case.patient.date_of_birth.isoformat())
        classify_columns(dictionary, case, diagnosis, born)
    if changed:
        record_change(case, user)
    return changed


def _editable(form: Any, values: Mapping[str, Any]) -> dict[str, Any]:
    computed = {f.code for f in form.fields if f.computed}
    return {k: v for k, v in values.items() if k not in computed}
