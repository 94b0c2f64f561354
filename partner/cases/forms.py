"""Web forms generated from the dictionary; validation stays with the dictionary's one validator.

The fields check only what the validator would otherwise cut, round or read as something else, and
every coded answer starts empty: a page stores what the person meant or refuses it beside the field.
"""

from __future__ import annotations

import gettext
import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, cast

import django_countries
from django import forms
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_countries import countries

from partner.dictionary.schema import FieldDef, FormDef
from partner.lib.dates import PartialDate
from partner.widgets import DateBox

from .models import Sex

NO_ANSWER = ("", "—")
_COUNTRY_CATALOGUE = Path(django_countries.__file__).with_name("locale")


@cache
def country_choices(lang: str) -> tuple[tuple[str, str], ...]:
    """The ISO 3166 countries as (code, name in `lang`), in the alphabetical order of that language.

    The names are django-countries' own translations, read from its catalogue here so that they follow
    the page's language whether or not the package is one of the project's apps.
    """
    catalogue = gettext.translation("django", _COUNTRY_CATALOGUE, [translation.to_locale(lang)], fallback=True)
    with translation.override(None):  # untranslated, the names are the catalogue's keys
        english = {code: str(name) for code, name in countries.countries.items()}
    named = [(code, catalogue.gettext(name)) for code, name in english.items()]
    return tuple(sorted(named, key=lambda pair: _folded(pair[1])))


def _folded(name: str) -> str:
    """Accents set aside for sorting, so that Österreich comes before Polen."""
    return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)).casefold()


def country_field(lang: str, *, error_messages: dict[str, Any] | None = None, **kwargs: Any) -> forms.ChoiceField:
    """A country picked from the list by its name; the form keeps its ISO 3166 code."""
    refused = {"invalid_choice": _("Choose the country from the list: %(value)s is not one of them.")}
    return forms.ChoiceField(
        choices=[NO_ANSWER, *country_choices(lang)], error_messages=refused | (error_messages or {}), **kwargs
    )


class IdentityForm(forms.Form):
    """What the centre types to derive the pseudonym; none of it is stored."""

    given_names = forms.CharField(label=_("Given names"), max_length=200)
    family_names = forms.CharField(label=_("Family names"), max_length=200)
    date_of_birth = forms.DateField(label=_("Date of birth"), widget=DateBox())
    sex = forms.ChoiceField(
        label=_("Sex"),
        choices=[NO_ANSWER, *Sex.choices],
        error_messages={"required": _("Choose the sex recorded at birth.")},
    )

    def __init__(self, *args: Any, lang: str = "en", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["country_of_birth"] = country_field(
            lang,
            label=_("Country of birth"),
            help_text=_("Typing the first letters of its name jumps to it."),
            error_messages={"required": _("Choose the country of birth.")},
        )
        for field in self.fields.values():
            # A browser cuts what is typed at `maxlength` without a word: the length is checked here instead.
            field.widget.attrs.pop("maxlength", None)
        if self.is_bound:
            _show_unlisted(self.fields["country_of_birth"], self.data.get(self.add_prefix("country_of_birth")))


def _show_unlisted(field: forms.Field, value: Any) -> None:
    """Keep a value that is not one of the choices (a stored UK for GB) in sight, marked, for the person to correct.

    Shown as no answer, it would be erased by the next save. Only the widget offers it: the field still refuses it.
    """
    if not isinstance(field, forms.ChoiceField) or isinstance(field, forms.MultipleChoiceField) or value in (None, ""):
        return
    choices = list(cast(list[tuple[str, str]], field.choices))
    if all(str(value) != str(code) for code, _label in choices):
        marked = _("%(value)s (not in the list)") % {"value": value}
        cast(forms.Select, field.widget).choices = [*choices, (value, marked)]


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WHOLE = re.compile(r"[+-]?\d+")
_DECIMAL = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def _whole_date(value: str) -> None:
    if not _ISO_DATE.fullmatch(value):
        raise ValidationError(_("Write the date as year-month-day, e.g. 2023-05-06."))


class PartialDateWidget(forms.MultiWidget):
    """Day, month and year typed in three boxes (as the GOV.UK design system's date input); the day, or
    the day and the month, may be left blank where the field accepts a partial date."""

    parts = (("day", _("Day"), 2), ("month", _("Month"), 2), ("year", _("Year"), 4))

    def __init__(self, attrs: dict[str, Any] | None = None):
        inputs: dict[str, forms.Widget | type[forms.Widget]] = {
            # No maxlength: a browser would cut what is typed without a word.
            name: forms.TextInput(attrs={"inputmode": "numeric", "size": size, "class": name})
            for name, _label, size in self.parts
        }
        super().__init__(inputs, attrs)

    def decompress(self, value: Any) -> list[str]:
        date = _parsed(value)
        if date is None:
            return ["", "", ""]
        return [str(date.day or ""), str(date.month or ""), str(date.year)]

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        boxes = super().value_from_datadict(data, files, name)
        if not any(boxes) and data.get(name):  # one ISO 8601 text under the field's own name, as a script posts it
            return str(data.get(name))
        return boxes

    def id_for_label(self, id_: str) -> str:
        # The field's label, and an error summary's link, go to the first box.
        return f"{id_}_day" if id_ else id_

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        base = (attrs or {}).get("id") or self.attrs.get("id")
        for (part, _label, _size), sub in zip(self.parts, context["widget"]["subwidgets"], strict=True):
            if base:
                sub["attrs"]["id"] = f"{base}_{part}"
        return context

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> Any:
        context = self.get_context(name, value, attrs)
        boxes = []
        for (_name, label, _size), sub in zip(self.parts, context["widget"]["subwidgets"], strict=True):
            box = self.widgets[0].render(sub["name"], sub["value"], sub["attrs"], renderer)
            boxes.append((sub["attrs"].get("id", ""), label, box))
        return format_html(
            '<div class="date-input" role="group">{}</div>',
            format_html_join("", '<div class="date-input-item"><label for="{}">{}</label>{}</div>', boxes),
        )


def _parsed(value: Any) -> PartialDate | None:
    try:
        return PartialDate.parse(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


class PartialDateField(forms.Field):
    """A date to the day, or only its month and year, or only its year, as `precision` allows; the
    form keeps it as ISO 8601 text ("2019-05-14", "2019-05", "2019") for the dictionary's validator."""

    widget = PartialDateWidget

    def __init__(self, precision: Sequence[str], **kwargs: Any):
        self.precision = precision
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> str:
        if not isinstance(value, (list, tuple)):
            return self._iso(str(value or "").strip())
        day, month, year = (str(part or "").strip() for part in value)
        if not (day or month or year):
            return ""
        if any(part and not (part.isascii() and part.isdigit()) for part in (day, month, year)):
            raise ValidationError(_("Write the day, the month and the year in digits, e.g. 14 5 2019."))
        if not year:
            raise ValidationError(_("Give the year: a day or a month without a year is no date."))
        if day and not month:
            raise ValidationError(_("Give the month: a day without a month is no date."))
        if len(year) != 4:
            raise ValidationError(_("Write the year with four digits, e.g. 2019."))
        if not day and "month" not in self.precision:
            raise ValidationError(_("Give the day too: this date needs it."))
        if not month and "year" not in self.precision:
            raise ValidationError(_("Give the month too: this date needs it."))
        try:
            date = PartialDate(int(year), int(month) if month else None, int(day) if day else None)
        except ValueError:
            typed = "/".join(part for part in (day, month, year) if part)
            raise ValidationError(
                _("%(typed)s is not a date that exists: check the day and the month.") % {"typed": typed}
            ) from None
        return date.iso

    def _iso(self, text: str) -> str:
        if not text:
            return ""
        date = _parsed(text)
        if date is None:
            raise ValidationError(_("Write the date as year-month-day, e.g. 2023-05-06."))
        if date.precision not in self.precision:
            raise ValidationError(_("Give the month too: this date needs it."))
        return date.iso


def _number_as_written(f: FieldDef) -> Callable[[str], None]:
    """Refuses what the dictionary's validator would read as another number: grouped thousands, extra decimals."""

    def check(value: str) -> None:
        if f.type == "integer":
            if not _WHOLE.fullmatch(value):
                raise ValidationError(_("Write a whole number in digits only, without spaces, points or commas."))
            return
        if not _DECIMAL.fullmatch(value):
            raise ValidationError(_("Write a number in digits, with a point or a comma before the decimals."))
        places = -int(Decimal(value.replace(",", ".")).normalize().as_tuple().exponent)
        if f.decimals is not None and places > f.decimals:
            if f.decimals == 0:
                raise ValidationError(_("Give a whole number: this field keeps no decimals."))
            raise ValidationError(
                ngettext(
                    "Give at most %(n)s decimal place: this field keeps no more.",
                    "Give at most %(n)s decimal places: this field keeps no more.",
                    f.decimals,
                )
                % {"n": f.decimals}
            )

    return check


def _widget(f: FieldDef, lang: str) -> tuple[forms.Field, str]:
    """A form field that only collects text; `validate_record` then types and checks it.

    The field's own checks refuse what the validator would otherwise cut, round or read as something else.
    """
    attrs: dict[str, Any] = {"data-field": f.code}
    choices = [NO_ANSWER] + [(c.code, c.labels.get(lang)) for c in f.choices]
    if f.type == "code" and f.code_system == "ISO3166":
        return country_field(lang, required=False, widget=forms.Select(attrs=attrs)), "choice"
    if f.type == "choice":
        return forms.ChoiceField(choices=choices, required=False, widget=forms.Select(attrs=attrs)), "choice"
    if f.type == "multichoice":
        widget = forms.CheckboxSelectMultiple(attrs=attrs)
        return forms.MultipleChoiceField(choices=choices[1:], required=False, widget=widget), "multi"
    if f.type == "boolean":
        return forms.ChoiceField(
            choices=[NO_ANSWER, ("yes", _("yes")), ("no", _("no"))], required=False, widget=forms.Select(attrs=attrs)
        ), "choice"
    if f.type == "date" and f.partial_dates:
        return PartialDateField(f.precision, required=False, widget=PartialDateWidget()), "partial_date"
    if f.type == "date":
        date = forms.DateInput(attrs={**attrs, "type": "date"})
        return forms.CharField(required=False, validators=[_whole_date], widget=date), "date"
    if f.type in ("integer", "decimal"):
        # Text, not type=number: a browser sends a number input it cannot read as empty, and the answer vanishes.
        attrs |= {"inputmode": "numeric" if f.type == "integer" else "decimal", "data-number": True}
        number = forms.TextInput(attrs=attrs)
        return forms.CharField(required=False, validators=[_number_as_written(f)], widget=number), "number"
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
            _show_unlisted(field, self.data.get(self.add_prefix(f.code)) if self.is_bound else initial.get(f.code))
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
            if kinds[name] == "partial_date":
                value = _partial_raw(self.fields[name], data, key)
            else:
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


def _partial_raw(field: forms.Field, data: Any, key: str) -> str:
    """The three boxes as one ISO 8601 text; what cannot be read is kept as typed, for the field to refuse."""
    parts = field.widget.value_from_datadict(data, {}, key)
    try:
        return str(field.to_python(parts))
    except ValidationError:
        return parts if isinstance(parts, str) else "/".join(str(part or "").strip() for part in parts)


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
        widget=DateBox(),
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
    reason = forms.CharField(
        label=_("Why the data are erased"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed for an erasure, and kept with it: e.g. the consent form's scope, or the family's request."),
    )
    confirm = forms.BooleanField(label=_("I have the signed withdrawal in front of me"))

    def __init__(self, *args: Any, born: Any = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.born = born

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("extent") == "erase" and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("Say why the data are erased: the reason is kept with the erasure."))
        return cleaned

    def clean_withdrawn_on(self) -> Any:
        import datetime as dt

        value = self.cleaned_data["withdrawn_on"]
        if value > dt.date.today():
            raise forms.ValidationError(_("The date of withdrawal cannot be in the future."))
        if self.born and value < self.born:
            raise forms.ValidationError(_("The date of withdrawal cannot be before the date of birth."))
        return value
