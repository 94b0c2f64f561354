"""Web forms generated from the dictionary; validation stays with the dictionary's one validator."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from partner.dictionary.schema import FieldDef, FormDef

from .models import Sex


class IdentityForm(forms.Form):
    """What the centre types to derive the pseudonym; none of it is stored."""

    given_names = forms.CharField(label=_("Given names"), max_length=200)
    family_names = forms.CharField(label=_("Family names"), max_length=200)
    date_of_birth = forms.DateField(label=_("Date of birth"), widget=forms.DateInput(attrs={"type": "date"}))
    sex = forms.ChoiceField(label=_("Sex"), choices=Sex.choices)
    country_of_birth = forms.CharField(
        label=_("Country of birth"), max_length=2, min_length=2, help_text=_("ISO 3166 code, e.g. IT")
    )


def _widget(f: FieldDef, lang: str) -> tuple[forms.Field, str]:
    """A form field that only collects text; `validate_record` then types and checks it."""
    attrs: dict[str, Any] = {"data-field": f.code}
    choices = [("", "—")] + [(c.code, c.labels.get(lang)) for c in f.choices]
    if f.type == "choice":
        return forms.ChoiceField(choices=choices, required=False, widget=forms.Select(attrs=attrs)), "choice"
    if f.type == "multichoice":
        widget = forms.CheckboxSelectMultiple(attrs=attrs)
        return forms.MultipleChoiceField(choices=choices[1:], required=False, widget=widget), "multi"
    if f.type == "boolean":
        return forms.ChoiceField(
            choices=[("", "—"), ("yes", _("yes")), ("no", _("no"))], required=False, widget=forms.Select(attrs=attrs)
        ), "choice"
    if f.type == "date":
        return forms.CharField(required=False, widget=forms.DateInput(attrs={**attrs, "type": "date"})), "date"
    if f.type in ("integer", "decimal"):
        attrs |= {"type": "number", "step": "1" if f.type == "integer" else "any"}
        attrs |= {k: v for k, v in (("min", f.min), ("max", f.max)) if v is not None}
        return forms.CharField(required=False, widget=forms.TextInput(attrs=attrs)), "number"
    placeholder = {"morphology": "8370/3", "topography": "C74.0"}.get(f.type, "")
    return forms.CharField(required=False, widget=forms.TextInput(attrs={**attrs, "placeholder": placeholder})), "text"


def _initial(f: FieldDef, value: Any) -> Any:
    """A stored value as its widget shows it."""
    if f.type == "boolean" and isinstance(value, bool):
        return "yes" if value else "no"
    return value


class DictionaryForm(forms.Form):
    def __init__(
        self,
        definition: FormDef,
        lang: str,
        data: Any = None,
        *,
        skip: set[str] | None = None,
        prefix: str | None = None,
        values: dict[str, Any] | None = None,
    ):
        initial = {f.code: _initial(f, values[f.code]) for f in definition.fields if values and f.code in values}
        super().__init__(data, prefix=prefix or definition.code, initial=initial)
        self.definition = definition
        self.label = definition.labels.get(lang)
        self.rows: list[dict[str, Any]] = []
        for f in definition.fields:
            if f.computed or (skip and f.code in skip):
                continue
            field, kind = _widget(f, lang)
            field.label = f.labels.get(lang) + (f" ({f.unit})" if f.unit else "")
            field.help_text = f.help.get(lang) if f.help else ""
            self.fields[f.code] = field
            show_if = f.conditions().get("show_if")
            self.rows.append(
                {
                    "name": f.code,
                    "kind": kind,
                    "required": f.required,
                    "section": f.section.get(lang) if f.section else "",
                    "show_if": json.dumps(show_if.to_json()) if show_if else "",
                }
            )

    def raw_values(self) -> dict[str, Any]:
        """What the user typed, blank fields left out, for the dictionary's validator."""
        out: dict[str, Any] = {}
        kinds = {row["name"]: row["kind"] for row in self.rows}
        for name in self.fields:
            key = self.add_prefix(name)
            data: Any = self.data  # a QueryDict when bound
            value = data.getlist(key) if kinds[name] == "multi" else data.get(key, "")
            if value not in ("", None, []):
                out[name] = value
        return out

    def bound_rows(self) -> list[dict[str, Any]]:
        return [{**row, "field": self[row["name"]]} for row in self.rows]

    def bound_sections(self) -> list[dict[str, Any]]:
        """The fields grouped under their section headings (a heading starts a new group)."""
        groups: list[dict[str, Any]] = []
        for row in self.bound_rows():
            if row["section"] or not groups:
                groups.append({"title": row["section"], "rows": []})
            groups[-1]["rows"].append(row)
        return groups


class RepeatingForm:
    """The rows of a repeating form (treatment lines, follow-up events) on a case's page.

    Each row posts `<form>-row` (a key unique on the page) and, for a stored record, `<form>-<key>-number`;
    its fields carry the prefix `<form>-<key>`. Rows added in the browser are clones of `template`.
    """

    def __init__(self, definition: FormDef, lang: str, data: Any = None, records: list[Any] | None = None):
        self.definition = definition
        self.label = definition.labels.get(lang)
        self.help = definition.help.get(lang) if definition.help else ""
        code = definition.code
        self.rows: list[tuple[str, int | None, DictionaryForm]] = []
        if data is not None:
            stored = {str(r.number) for r in records or []}
            for key in data.getlist(f"{code}-row"):
                if not key.isdigit() and not key.startswith("new"):
                    continue
                number = data.get(f"{code}-{key}-number", "")
                self.rows.append(
                    (
                        key,
                        int(number) if number in stored else None,
                        DictionaryForm(definition, lang, data, prefix=f"{code}-{key}"),
                    )
                )
        else:
            for record in records or []:
                key = str(record.number)
                self.rows.append(
                    (key, record.number, DictionaryForm(definition, lang, prefix=f"{code}-{key}", values=record.values))
                )
        self.template = DictionaryForm(definition, lang, prefix=f"{code}-__row__")

    def bound(self) -> list[dict[str, Any]]:
        return [{"key": key, "number": number, "form": form} for key, number, form in self.rows]


class WithdrawalForm(forms.Form):
    """What the centre records when a family or a patient withdraws consent."""

    withdrawn_on = forms.DateField(
        label=_("Date of withdrawal"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The date on the signed withdrawal, as kept at the centre."),
    )
    extent = forms.ChoiceField(
        label=_("What happens to the data already recorded"),
        widget=forms.RadioSelect,
        choices=[
            ("keep", _("Keep them at the centre's registry, out of every export and analysis from now on")),
            ("erase", _("Erase the clinical data and their history; keep only the registration and the consent")),
        ],
        help_text=_("Follow the consent form's scope and the national rules. Erasure cannot be undone."),
    )
    confirm = forms.BooleanField(label=_("I have the signed withdrawal in front of me"))

    def __init__(self, *args: Any, born: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.born = born

    def clean_withdrawn_on(self) -> Any:
        import datetime as dt

        value = self.cleaned_data["withdrawn_on"]
        if value > dt.date.today():
            raise forms.ValidationError(_("The date of withdrawal cannot be in the future."))
        if self.born and value < self.born:
            raise forms.ValidationError(_("The date of withdrawal cannot be before the date of birth."))
        return value
