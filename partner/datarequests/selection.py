"""What a data request asks for: its variables (`form.field` of the data dictionary) and the filters of
its cohort. Checked here into the shape they are stored in, and put in words for the pages and the
command.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.translation import gettext as _

from partner.accounts.models import Country
from partner.analysis import AGE_GROUPS
from partner.dictionary.loader import Dictionary
from partner.dictionary.schema import FieldDef, FormDef

from .extract import COHORT_KEYS, COHORT_LISTS


def requestable_fields(dictionary: Dictionary) -> list[tuple[FormDef, list[FieldDef]]]:
    """The fields a request may name, by form: all but the registry's pseudonym."""
    return [(form, [f for f in form.fields if f.computed != "pseudonym"]) for form in dictionary.forms]


def check_variables(variables: Any, dictionary: Dictionary) -> list[str]:
    """The variables as `form.field`, each once, in the dictionary's order; ValidationError naming each bad one."""
    if isinstance(variables, str) or not isinstance(variables, Iterable):
        raise ValidationError({"variables": [_("Give the variables as a list of form.field.")]})
    errors: list[str] = []
    chosen: set[str] = set()
    for variable in variables:
        if not isinstance(variable, str):
            errors.append(_("“%(variable)s” is not a variable: give it as form.field.") % {"variable": variable})
            continue
        form_code, dot, field_code = variable.strip().partition(".")
        form = dictionary.form_by_code.get(form_code)
        found = next((f for f in form.fields if f.code == field_code), None) if form else None
        if not dot or not form_code or not field_code:
            errors.append(
                _("“%(variable)s” is not a variable: give it as form.field, e.g. diagnosis.morphology.")
                % {"variable": variable}
            )
        elif form is None:
            errors.append(
                _("Unknown variable “%(variable)s”: the data dictionary v%(v)s has no form %(form)s.")
                % {"variable": variable, "v": dictionary.number, "form": form_code}
            )
        elif found is None:
            errors.append(
                _(
                    "Unknown variable “%(variable)s”: "
                    "the form %(form)s of the data dictionary v%(v)s has no field %(field)s."
                )
                % {"variable": variable, "form": form_code, "v": dictionary.number, "field": field_code}
            )
        elif found.computed == "pseudonym":
            errors.append(
                _(
                    "The variable “%(variable)s” is the registry's pseudonym, which never leaves the registry: "
                    "each extract has its own row id instead."
                )
                % {"variable": variable}
            )
        else:
            chosen.add(f"{form_code}.{field_code}")
    if errors:
        raise ValidationError({"variables": errors})
    if not chosen:
        raise ValidationError({"variables": [_("Choose at least one variable.")]})
    return [
        f"{form.code}.{f.code}" for form in dictionary.forms for f in form.fields if f"{form.code}.{f.code}" in chosen
    ]


def sex_choices(dictionary: Dictionary, language: str = "en") -> list[tuple[str, str]]:
    """The sexes of the registration form, as the cohort filters them."""
    registration = dictionary.form_by_code.get("registration")
    sex = next((f for f in registration.fields if f.code == "sex"), None) if registration else None
    return [(c.code, c.labels.get(language)) for c in sex.choices] if sex else []


def _texts(value: Any, key: str, errors: dict[str, list[str]]) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        errors[key] = [_("Give %(filter)s as a list of texts.") % {"filter": key}]
        return []
    return list(dict.fromkeys(v.strip() for v in value if v.strip()))


def _date(value: Any, key: str, errors: dict[str, list[str]]) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        errors[key] = [_("“%(value)s” is not a date: give it as YYYY-MM-DD.") % {"value": value}]
        return None


def check_cohort(cohort: Any, dictionary: Dictionary) -> dict[str, Any]:
    """The cohort's filters, checked and in the stored shape; ValidationError keyed `cohort.<filter>`."""
    if cohort is None:
        cohort = {}
    if not isinstance(cohort, Mapping):
        raise ValidationError({"cohort": [_("Give the cohort as an object of filters.")]})
    errors: dict[str, list[str]] = {}
    unknown = sorted(str(k) for k in cohort if k not in COHORT_KEYS)
    if unknown:
        errors["cohort"] = [
            _("Unknown cohort filter “%(filter)s”: use %(known)s.") % {"filter": key, "known": ", ".join(COHORT_KEYS)}
            for key in unknown
        ]
    out: dict[str, Any] = {key: _texts(cohort.get(key), f"cohort.{key}", errors) for key in COHORT_LISTS}
    out["countries"] = [code.upper() for code in out["countries"]]
    allowed = {
        "entities": set(dictionary.entity_by_code),
        "countries": set(Country.objects.values_list("code", flat=True)),
        "age_groups": set(AGE_GROUPS),
        "sexes": {code for code, _label in sex_choices(dictionary)},
    }
    names = {
        "entities": _("entity"),
        "countries": _("country"),
        "age_groups": _("age group"),
        "sexes": _("sex"),
    }
    for key, known in allowed.items():
        bad = [value for value in out[key] if value not in known]
        if bad:
            errors[f"cohort.{key}"] = [
                _("Unknown %(what)s “%(value)s”: use one of %(known)s.")
                % {"what": names[key], "value": value, "known": ", ".join(sorted(known))}
                for value in bad
            ]
    long = [stage for stage in out["stages"] if len(stage) > 40]
    if long:
        errors["cohort.stages"] = [_("A stage group has at most 40 characters: “%(value)s”.") % {"value": long[0]}]
    start = _date(cohort.get("period_start"), "cohort.period_start", errors)
    end = _date(cohort.get("period_end"), "cohort.period_end", errors)
    if start and end and start > end:
        errors["cohort.period_end"] = [_("The end of the diagnosis period is before its start.")]
    if errors:
        raise ValidationError(errors)
    out["period_start"] = start.isoformat() if start else None
    out["period_end"] = end.isoformat() if end else None
    return out


def variable_groups(dictionary: Dictionary, language: str = "en", chosen: Iterable[str] = ()) -> list[dict[str, Any]]:
    """The requestable variables by form, with their labels, marking those chosen."""
    wanted = set(chosen)
    entities = dictionary.entity_by_code
    groups = []
    for form, fields in requestable_fields(dictionary):
        if not fields:
            continue
        items = [
            {
                "ref": f"{form.code}.{f.code}",
                "label": f.labels.get(language),
                "chosen": f"{form.code}.{f.code}" in wanted,
            }
            for f in fields
        ]
        groups.append(
            {
                "code": form.code,
                "label": form.labels.get(language),
                "repeating": form.repeating,
                "module": form.is_module,
                # the entities a module is for, unless its own name already says it
                "entities": [
                    entities[e].names.get(language)
                    for e in form.entities
                    if e in entities and entities[e].names.get(language) != form.labels.get(language)
                ],
                "variables": items,
                "chosen": sum(1 for item in items if item["chosen"]),
            }
        )
    return groups


def _shown_date(value: Any) -> str:
    """An ISO date of the cohort as the page's language writes it (07/12/2026, 07.12.2026)."""
    try:
        return formats.date_format(dt.date.fromisoformat(str(value)), "SHORT_DATE_FORMAT") if value else ""
    except ValueError:
        return str(value)


def describe_cohort(cohort: Mapping[str, Any], dictionary: Dictionary, language: str = "en") -> list[tuple[str, str]]:
    """The cohort's filters in words, for the pages and the command."""
    entities = dictionary.entity_by_code
    countries = {c.code: c.local_name for c in Country.objects.all()}
    sexes = dict(sex_choices(dictionary, language))
    everything = _("all")
    start, end = (_shown_date(cohort.get(key)) for key in ("period_start", "period_end"))
    if start and end:
        period = _("%(start)s to %(end)s") % {"start": start, "end": end}
    elif start:
        period = _("from %(start)s") % {"start": start}
    elif end:
        period = _("until %(end)s") % {"end": end}
    else:
        period = everything
    return [
        (
            _("Entities"),
            ", ".join(entities[e].names.get(language) if e in entities else e for e in cohort.get("entities") or [])
            or everything,
        ),
        (_("Countries"), ", ".join(countries.get(c, c) for c in cohort.get("countries") or []) or everything),
        (_("Diagnosed"), period),
        (_("Age groups (years at diagnosis)"), ", ".join(cohort.get("age_groups") or []) or everything),
        (_("Sexes"), ", ".join(sexes.get(s, s) for s in cohort.get("sexes") or []) or everything),
        (_("Stage groups"), ", ".join(cohort.get("stages") or []) or everything),
    ]
