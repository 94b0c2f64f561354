"""The forms of one case's data-entry page, built from its dictionary version, and the summary of their errors.

A page holds the whole case (registration, edit) or, with `only`, one form or one repeating group of it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import forms as django_forms
from django.http import QueryDict
from django.utils.translation import gettext as _

from partner.dictionary.loader import Dictionary
from partner.dictionary.schema import FormDef
from partner.lib.icdo import CodeError

from .editing import Row
from .forms import DictionaryForm, RepeatingForm
from .models import FormRecord
from .services import age_in_years
from .validation import PATIENT_FIELDS


def _classify(d: Dictionary, morphology: str, topography: str, born: str, diagnosed: str) -> Any:
    """The classification of typed codes, or None while they are incomplete or invalid."""
    if not (morphology and topography):
        return None
    age = None
    with contextlib.suppress(ValueError):
        age = age_in_years(dt.date.fromisoformat(born), dt.date.fromisoformat(diagnosed))
    try:
        return d.classifier.classify(morphology, topography, age if age is None or age >= 0 else None)
    except CodeError:
        return None


def modules_for(d: Dictionary, entity: str | None) -> list[FormDef]:
    return [f for f in d.forms if f.is_module and entity is not None and entity in f.entities]


class CasePage:
    """Every form of one case's page (or, with `only`, one of them), bound to the POST when there is one."""

    def __init__(
        self,
        d: Dictionary,
        lang: str,
        data: QueryDict | None,
        *,
        records: list[FormRecord] | None = None,
        entity: str | None = None,
        born: str = "",
        only: str | None = None,
    ):
        self.d = d
        self.only = only
        stored: dict[str, list[FormRecord]] = {}
        for record in records or []:
            stored.setdefault(record.form.code, []).append(record)
        self.stored = stored
        self.classification = None
        # One form alone never moves the case to another module: the codes are typed on the diagnosis.
        if data is not None and only is None:
            diagnosis = "diagnosis-"
            self.classification = _classify(
                d,
                data.get(diagnosis + "morphology", ""),
                data.get(diagnosis + "topography", ""),
                born or data.get("identity-date_of_birth", ""),
                data.get(diagnosis + "diagnosis_date", ""),
            )
            entity = self.classification.entity if self.classification else None
        self.entity = entity
        self.singles: list[DictionaryForm] = []
        self.repeating: list[RepeatingForm] = []
        self.modules: list[DictionaryForm] = []
        for form in d.forms:
            if (only is not None and form.code != only) or (form.is_module and form not in modules_for(d, entity)):
                continue
            if form.repeating:
                self.repeating.append(RepeatingForm(form, lang, data, stored.get(form.code, [])))
                continue
            values = stored[form.code][0].values if form.code in stored else None
            built = DictionaryForm(form, lang, data, skip=set(PATIENT_FIELDS), values=values)
            (self.modules if form.is_module else self.singles).append(built)

    def sections(self) -> list[tuple[str, Any]]:
        """The page in reading order: core forms, the module after the diagnosis, then the rest."""
        if self.only is not None:
            return [("single", f) for f in self.singles + self.modules] + [("repeating", r) for r in self.repeating]
        out: list[tuple[str, Any]] = []
        singles = {f.definition.code: f for f in self.singles}
        for form in self.d.forms:
            if form.code in singles:
                out.append(("single", singles[form.code]))
                if form.code == "diagnosis":
                    out.append(("module", self.modules))
            elif form.repeating:
                out.append(("repeating", next(r for r in self.repeating if r.definition.code == form.code)))
        return out

    def submitted(self) -> dict[str, list[Row]]:
        """What the editor typed, by form: rows left blank are not records."""
        out: dict[str, list[Row]] = {}
        for form in self.singles + self.modules:
            values = form.raw_values()
            exists = form.definition.code in self.stored
            if values or exists:
                out[form.definition.code] = [Row(1 if exists else None, values)]
        for rep in self.repeating:
            out[rep.definition.code] = [
                Row(number, values) for _key, number, form in rep.rows if (values := form.raw_values()) or number
            ]
        return out

    def is_valid(self) -> bool:
        """The page's own checks, beside each field: a country from the list, dates and numbers as written."""
        rows = [form for rep in self.repeating for _key, _number, form in rep.rows]
        return all([form.is_valid() for form in self.singles + self.modules + rows])

    def show_errors(self, errors: list[Any]) -> list[str]:
        """Put each error beside its field, one message a field; returns those that belong to no field on the page."""
        left: list[str] = []
        forms: dict[tuple[str, int], DictionaryForm] = {(f.definition.code, 1): f for f in self.singles + self.modules}
        for rep in self.repeating:
            rows = [form for _key, _number, form in rep.rows if form.raw_values() or _number]
            forms.update({(rep.definition.code, i): form for i, form in enumerate(rows, start=1)})
        for error in errors:
            form = forms.get((error.form, error.instance))
            if form is not None and error.field in form.fields:
                if error.field not in form.errors:
                    form.add_error(error.field, error.message)
            else:
                left.append(str(error))
        return left

    def titled_forms(self) -> list[tuple[str, django_forms.Form]]:
        """Every bound form in reading order, with the title a reader sees above it."""
        out: list[tuple[str, django_forms.Form]] = []
        for kind, item in self.sections():
            if kind == "single":
                out.append((item.label, item))
            elif kind == "module":
                out.extend((f.label, f) for f in item)
            else:
                out.extend((f"{item.label} #{n}", form) for n, (_key, _number, form) in enumerate(item.rows, start=1))
        return out


@dataclass(frozen=True)
class SummaryItem:
    text: str
    href: str  # "" for an error that belongs to no field


def error_summary(titled: list[tuple[str, django_forms.Form]], problems: list[str]) -> list[SummaryItem]:
    """Every error of the page, in reading order, each linked to its field (its first input for a group of them)."""
    items: list[SummaryItem] = []
    for title, form in titled:
        if not form.is_bound:
            continue
        items.extend(SummaryItem(f"{title}: {e}", "") for e in form.non_field_errors())
        for name in form.fields:
            bound = form[name]
            for message in bound.errors:
                label = _("%(form)s · %(field)s") % {"form": title, "field": bound.label} if title else bound.label
                items.append(SummaryItem(f"{label}: {message}", f"#{_first_input(bound)}"))
    items.extend(SummaryItem(p, "") for p in problems)
    return items


def _first_input(bound: django_forms.BoundField) -> str:
    """The id a link to the field goes to: a group of boxes has no one id for its label, so its first box."""
    if bound.id_for_label:
        return str(bound.id_for_label)
    subwidgets = bound.subwidgets
    return str(subwidgets[0].id_for_label if subwidgets else bound.auto_id)


def module_context(page: CasePage, lang: str) -> dict[str, Any]:
    c = page.classification
    entity = page.d.entity_by_code.get(page.entity) if page.entity else None
    return {
        "modules": page.modules,
        "entity": page.entity or "",
        "entity_name": entity.names.get(lang) if entity else "",
        "classified": c is not None,
    }
