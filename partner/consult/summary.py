"""The summary of a case that the experts read, frozen in the request when it is submitted: no
identifier, no centre, dates as days from diagnosis. Shown in each reader's language on the pages,
in the API and in the letter.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import formats, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from partner.accounts.countries import country_name
from partner.cases.models import TumourCase
from partner.cases.services import current_forms
from partner.dictionary.loader import Dictionary, get_dictionary
from partner.lib.dates import PartialDate

#: Forms whose content never goes into the summary the experts read.
PRIVATE_FORMS = {"consent"}
#: Fields that would identify the child; dates are given as days from diagnosis instead.
PRIVATE_FIELDS = {"date_of_birth", "pseudonym"}
#: Free text longer than this may name a person or a place: left out of the summary.
SHORT_TEXT = 40


def summary_of(case: TumourCase, dictionary: Dictionary | None = None) -> dict[str, Any]:
    """The case as the panel may read it: no identifier, no centre, dates as days from diagnosis.

    Forms are kept by code with their values as stored (choices as codes), so the summary is shown
    in each reader's language; a date becomes {"days": N} from the diagnosis.
    """
    d = dictionary or get_dictionary(case.dictionary_version.number)
    forms = current_forms(d, case)
    diagnosed = case.diagnosis_date
    born = forms.get("registration", {}).get("date_of_birth")
    age = None
    if born and diagnosed:
        age = round((diagnosed - dt.date.fromisoformat(born)).days / 365.25, 1)

    def kept(form_code: str, values: dict[str, Any]) -> dict[str, Any]:
        form = d.form_by_code[form_code]
        out: dict[str, Any] = {}
        for f in form.fields:
            value = values.get(f.code)
            if f.code in PRIVATE_FIELDS or value in (None, "", []):
                continue
            if f.type == "date":
                if diagnosed is None:
                    continue
                when = PartialDate.parse(str(value))
                out[f.code] = {"days": (when.midpoint() - diagnosed).days}
                if not when.is_full:  # known to the month or year: the middle of it, said to be approximate
                    out[f.code]["approximate"] = True
            elif f.type == "text" and (f.max_length or SHORT_TEXT + 1) > SHORT_TEXT:
                continue
            else:
                out[f.code] = value
        return out

    summary: dict[str, Any] = {
        "entity": case.entity.code if case.entity else None,
        "country": case.centre.country.code,
        "age_at_diagnosis": age,
        "diagnosis_year": diagnosed.year if diagnosed else None,
        "dictionary_version": d.number,
        "forms": {},
    }
    for code, values in forms.items():
        if code in PRIVATE_FORMS or code not in d.form_by_code:
            continue
        if isinstance(values, list):
            rows = [kept(code, row) for row in values]
            summary["forms"][code] = [row for row in rows if row]
        else:
            summary["forms"][code] = kept(code, values)
    return summary


def summary_rows(summary: dict[str, Any], language: str = "en") -> list[dict[str, Any]]:
    """The summary for a page or a letter: per form, its label and (label, text) pairs, a list per row
    for a repeating form; words, numbers and yes or no all in `language`."""
    with translation.override(language):
        return _rows(summary, language)


def _rows(summary: dict[str, Any], language: str) -> list[dict[str, Any]]:
    d = get_dictionary(summary.get("dictionary_version"))
    sections = []
    for code, content in summary.get("forms", {}).items():
        form = d.form_by_code.get(code)
        if form is None or not content:
            continue
        fields = {f.code: f for f in form.fields}

        def pairs(values: dict[str, Any], fields: dict[str, Any] = fields) -> list[tuple[str, str]]:
            shown = []
            for key, value in values.items():
                f = fields.get(key)
                if f is None:
                    continue
                shown.append((f.labels.get(language), _display(f, value, language)))
            return shown

        rows = [pairs(row) for row in content] if isinstance(content, list) else [pairs(content)]
        sections.append({"code": code, "label": form.labels.get(language), "rows": rows, "repeating": form.repeating})
    return sections


def _display(f: Any, value: Any, language: str) -> str:
    if isinstance(value, dict) and "days" in value:
        days = value["days"]
        if value.get("approximate"):
            return ngettext(
                "about %(n)s day from diagnosis (the month or year is known)",
                "about %(n)s days from diagnosis (the month or year is known)",
                abs(days),
            ) % {"n": days}
        if days == 0:
            return _("at diagnosis")
        if days > 0:
            return _("day %(n)s after diagnosis") % {"n": days}
        return ngettext("%(n)s day before diagnosis", "%(n)s days before diagnosis", -days) % {"n": -days}
    if getattr(f, "code_system", "") == "ISO3166" and isinstance(value, str):
        return country_name(value, value, language)  # "Italia" in an Italian letter, never "IT"
    labels = {c.code: c.labels.get(language) for c in f.choices}
    labels.update({code: yes_no(answer) for code, answer in YES_NO.items() if code in labels})
    if isinstance(value, list):
        return ", ".join(labels.get(v, str(v)) for v in value)
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, int | float | Decimal) and not labels:
        text = formats.number_format(value, use_l10n=True)  # 120,0 in Italian, as the case's page writes it
    else:
        text = labels.get(value, str(value))
    return f"{text} {f.unit}" if f.unit and not labels else text


#: Choices that answer yes or no, said as a boolean field says it.
YES_NO = {"yes": True, "no": False}


def yes_no(answer: bool) -> str:
    """Yes or No in the active language: the one way a summary says it, for a boolean field and for a
    choice coded yes or no alike."""
    return _("Yes") if answer else _("No")
