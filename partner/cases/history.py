"""A case's history, one group a save: who saved, when, and the fields changed in the dictionary's order.

The rows of one save are those `partner.cases.saves` marked with one save id. Rows written without a
mark (a registration, an import, a status change) are grouped with the neighbouring unmarked rows of
the same author written within `SAME_SAVE` of each other: one transaction writes them in milliseconds.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from partner.dictionary.loader import Dictionary
from partner.dictionary.models import FormDefinition

from .models import FormRecord, TumourCase
from .overview import case_forms
from .saves import save_of

SAME_SAVE = dt.timedelta(seconds=2)
#: Case columns whose changes the history shows beside the form values, in this order. The case's
#: codes and date of diagnosis are copies of the diagnosis form's fields, shown there once.
CASE_FIELDS = ("status", "entity")


@dataclass
class Change:
    order: tuple[int, int, int]
    form: str
    number: int
    repeating: bool
    field: str
    old: Any
    new: Any


@dataclass
class Save:
    when: dt.datetime
    who: Any
    key: str | None
    changes: list[Change] = field(default_factory=list)
    last: dt.datetime | None = None


@dataclass(frozen=True)
class _Row:
    when: dt.datetime
    who: Any
    save: str | None
    changes: list[Change]


def grouped_history(d: Dictionary, case: TumourCase, lang: str, display: Any, case_value: Any) -> list[Save]:
    """The case's saves, newest first, each with its changes in form and field order.

    `display(field, value, lang)` and `case_value(column, value)` give a value as a reader knows it.
    """
    forms = {f.code: i for i, f in enumerate(case_forms(d, case.entity.code if case.entity else None))}
    forms.update({f.code: len(forms) + i for i, f in enumerate(d.forms) if f.code not in forms})
    codes = dict(FormDefinition.objects.filter(version_id=case.dictionary_version_id).values_list("id", "code"))
    rows: list[_Row] = []
    versions = FormRecord.history.filter(case_id=case.pk).select_related("history_user")
    by_record: dict[int, list[Any]] = {}
    for version in versions.order_by("history_date", "history_id"):
        by_record.setdefault(version.id, []).append(version)
    for history in by_record.values():
        previous: dict[str, Any] = {}
        for version in history:
            code = codes.get(version.form_id, "?")
            form = d.form_by_code.get(code)
            now = {} if version.history_type == "-" else version.values
            changes = []
            for position, f in enumerate(form.fields if form else []):
                old, new = previous.get(f.code), now.get(f.code)
                if old != new:
                    changes.append(
                        Change(
                            (forms.get(code, 999), version.number, position),
                            form.labels.get(lang) if form else code,
                            version.number,
                            bool(form and form.repeating),
                            f.labels.get(lang),
                            display(f, old, lang),
                            display(f, new, lang),
                        )
                    )
            previous = now
            rows.append(
                _Row(version.history_date, version.history_user, save_of(version.history_change_reason), changes)
            )
    previous_case: Any = None
    for version in case.history.order_by("history_date", "history_id").select_related("history_user"):
        changes = []
        if previous_case is not None:
            delta = version.diff_against(previous_case, included_fields=list(CASE_FIELDS))
            for change in sorted(delta.changes, key=lambda c: CASE_FIELDS.index(c.field)):
                label = TumourCase._meta.get_field(change.field).verbose_name  # type: ignore[union-attr]
                changes.append(
                    Change(
                        (-1, 0, CASE_FIELDS.index(change.field)),
                        _("Case"),
                        1,
                        False,
                        str(label),
                        case_value(change.field, change.old),
                        case_value(change.field, change.new),
                    )
                )
        previous_case = version
        rows.append(_Row(version.history_date, version.history_user, save_of(version.history_change_reason), changes))
    return _group(rows)


def _group(rows: list[_Row]) -> list[Save]:
    saves: dict[str, Save] = {}
    groups: list[Save] = []
    open_group: Save | None = None
    for row in sorted(rows, key=lambda r: r.when):
        if row.save is not None:
            group = saves.get(row.save)
            if group is None:
                group = saves[row.save] = Save(row.when, row.who, row.save)
                groups.append(group)
        else:
            fits = (
                open_group is not None
                and open_group.who == row.who
                and open_group.last is not None
                and row.when - open_group.last <= SAME_SAVE
            )
            if not fits:
                open_group = Save(row.when, row.who, None)
                groups.append(open_group)
            group = open_group  # type: ignore[assignment]
        assert group is not None
        group.changes.extend(row.changes)
        group.last = row.when
        group.who = group.who or row.who
    for group in groups:
        group.changes.sort(key=lambda c: c.order)
    return sorted((g for g in groups if g.changes), key=lambda g: g.when, reverse=True)
