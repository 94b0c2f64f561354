"""One row read from an import file stored: the case created as the web creates it, or the case
already imported from the same centre under the same identifier found and updated, line N of a
repeating form into stored line N.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from partner.cases.guard import CaseLocked, ChangeRefused, check_identity, open_change
from partner.cases.models import FormRecord, Status, TumourCase
from partner.cases.services import (
    CaseInvalid,
    classify_columns,
    create_case,
    current_forms,
    record_change,
    validate_case,
)
from partner.dictionary.models import FormDefinition
from partner.linkage.encoding import REGISTRY_SCHEMA, Encoder
from partner.linkage.services import store_encoded

from .import_rows import Problem, Row, RowReader, RowRefused


def import_row(row: Row, reader: RowReader, status: str, user: Any, encoder: Encoder) -> tuple[TumourCase, str]:
    """Store one row as the web stores a case: created through `create_case`, or the case found updated.

    The import's bulk path (partner.interop.importing) stores new cases many at a time instead, and
    is tested to store the same.
    """
    existing = (
        TumourCase.objects.select_related("patient", "dictionary_version")
        .filter(centre=row.centre, external_id=row.external_id)
        .exclude(external_id="")  # the condition of the unique index: SQLite uses it only when the query says so
        .first()
    )
    if existing is not None:
        return update_row(row, existing, reader, user)
    if gaps := row.gaps(reader):
        raise RowRefused(gaps)
    try:
        case = create_case(
            dictionary=reader.d,
            centre=row.centre,
            pseudonym=row.pseudonym,
            forms=row.forms,
            status=status,
            external_id=row.external_id,
            user=user,
            identity=row.identity,
            encoder=encoder,
        )
    except CaseInvalid as exc:
        raise reader.refused(row, exc.errors) from None
    if row.identity is None and row.encoded.get("linkage_encoding"):
        schema = row.encoded.get("linkage_schema") or REGISTRY_SCHEMA.version
        store_encoded(case.patient, row.encoded["linkage_encoding"], schema)
    return case, "created"


def existing_cases(rows: list[Row]) -> dict[tuple[int, str], TumourCase]:
    """The cases already stored under these rows' centres and identifiers, by (centre id, identifier)."""
    wanted = {(row.centre.pk, row.external_id) for row in rows}
    found = (
        TumourCase.objects.select_related("patient", "dictionary_version")
        .filter(centre_id__in={c for c, _e in wanted}, external_id__in={e for _c, e in wanted})
        .exclude(external_id="")  # the condition of the unique index: SQLite uses it only when the query says so
        .order_by()
    )
    return {(c.centre_id, c.external_id): c for c in found if (c.centre_id, c.external_id) in wanted}


def update_row(row: Row, existing: TumourCase, reader: RowReader, user: Any) -> tuple[TumourCase, str]:
    """Merge a row into the case already stored under its centre and identifier, through the guard:
    a locked case, one whose consent was withdrawn, or one the importer holds no role for is refused
    by row, as is a registration that would change the child's identity."""

    def refused(message: str, column: str = "external_id") -> RowRefused:
        return RowRefused([Problem(row.number, reader.column_of(column), row.external_id, "error", "import", message)])

    if existing.patient.pseudonym != row.pseudonym:
        raise refused(_("this identifier already belongs to another child's case at this centre"))
    try:
        case = open_change(user, existing)
    except CaseLocked as exc:
        # A locked case's row that changes nothing (an export imported back) is not a change to refuse.
        if not _changes(existing, row, reader)[0]:
            return existing, "unchanged"
        raise refused(_("case %(id)s: %(reason)s") % {"id": row.external_id, "reason": exc}) from None
    except ChangeRefused as exc:
        raise refused(_("case %(id)s: %(reason)s") % {"id": row.external_id, "reason": exc}) from None
    registration = row.forms.get("registration")
    if isinstance(registration, dict):
        try:
            check_identity(case.patient, registration)
        except CaseInvalid as exc:
            raise reader.refused(row, exc.errors) from None
    changed = _update(case, row, reader, user)
    if row.identity is None and row.encoded.get("linkage_encoding"):
        # A case that came without one (from an export) gets its node's encoding; one already kept stays.
        schema = row.encoded.get("linkage_schema") or REGISTRY_SCHEMA.version
        store_encoded(case.patient, row.encoded["linkage_encoding"], schema)
    return case, "updated" if changed else "unchanged"


def _changes(
    case: TumourCase, row: Row, reader: RowReader
) -> tuple[list[tuple[str, int, dict[str, Any], FormRecord | None]], dict[str, Any]]:
    """The records the row would write into the stored case, line N of the file into stored line N
    (form, number, values, the stored record or None), and the case's forms cleaned; nothing written."""
    d, forms = reader.d, row.forms
    stored = current_forms(d, case)
    if gaps := row.gaps(reader, {code: len(lines) for code, lines in stored.items()}):
        raise RowRefused(gaps)
    merged: dict[str, Any] = dict(stored)
    for code, given in forms.items():
        form = d.form_by_code[code]
        if form.repeating:
            lines = list(stored.get(code, []))
            for number, values in zip(row.lines[code], given, strict=True):
                if number <= len(lines):
                    lines[number - 1] = {**lines[number - 1], **values}
                else:  # the next line: gaps were refused above
                    lines.append(values)
            merged[code] = lines
        else:
            merged[code] = {**stored.get(code, {}), **given}
    cleaned, errors = validate_case(d, merged, partial=case.status == Status.DRAFT, pseudonym=case.patient.pseudonym)
    if errors:
        raise reader.refused(row, errors)
    records = {(r.form.code, r.number): r for r in case.records.select_related("form")}
    changes = []
    for code, instances in cleaned.items():
        if code not in forms:
            continue
        for number, values in enumerate(instances, start=1):
            record = records.get((code, number))
            if (record is None and values) or (record is not None and record.values != values):
                changes.append((code, number, values, record))  # an empty form is no record: nothing to add
    return changes, cleaned


def _update(case: TumourCase, row: Row, reader: RowReader, user: Any) -> bool:
    """Merge the file's columns into the stored case; True if anything changed."""
    d = reader.d
    changes, cleaned = _changes(case, row, reader)
    definitions = {f.code: f for f in FormDefinition.objects.filter(version=case.dictionary_version).only("id", "code")}
    for code, number, values, record in changes:
        if record is None:
            record = FormRecord(case=case, form=definitions[code], number=number, values=values)
        else:
            record.values = values
            record.version += 1
        record._history_user = user  # type: ignore[attr-defined]
        record.save()
    changed = bool(changes)
    if changed:
        diagnosis = (cleaned.get("diagnosis") or [{}])[0]
        if diagnosis.get("diagnosis_date") and diagnosis.get("morphology") and diagnosis.get("topography"):
            classify_columns(d, case, diagnosis, case.patient.date_of_birth)
        record_change(case, user)
    return changed
