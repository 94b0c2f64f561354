"""The one validator of form values, generated from the dictionary.

Web forms, the API and imports all call `validate_record`; it turns raw values (strings from a
form or a CSV cell, or JSON) into typed values and reports every problem by field code.
Stored values are JSON-friendly: dates as ISO strings, multichoice as lists.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from partner.lib.icdo import CodeError, normalise_topography, parse_morphology

from .schema import FieldDef, FormDef

_TRUE = {"1", "true", "yes", "y"}
_FALSE = {"0", "false", "no", "n"}
_CODE_PATTERNS = {
    "ORPHA": re.compile(r"^(ORPHA:)?\d{1,7}$"),
    "HGNC": re.compile(r"^(HGNC:\d{1,6}|[A-Z][A-Z0-9-]{0,15})$"),
    "HPO": re.compile(r"^HP:\d{7}$"),
    "ICF": re.compile(r"^[bsde]\d{1,5}(\.\d{1,3})?$"),
    "ISO3166": re.compile(r"^[A-Z]{2}$"),
    "HGVS": re.compile(r"^\S+:[cgpnmr]\.\S+$"),
    "UCUM": re.compile(r"^\S{1,20}$"),
}
_CODE_EXAMPLES = {
    "ORPHA": "ORPHA:1501",
    "HGNC": "TP53 or HGNC:11998",
    "HPO": "HP:0001250",
    "ICF": "b1440",
    "ISO3166": "IT",
    "HGVS": "NM_000546.6:c.1010G>A",
    "UCUM": "mg/L",
}


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass
class Validated:
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    if isinstance(value, str) and not value.strip():
        return True
    return isinstance(value, (list, tuple, set)) and not value


def coerce(f: FieldDef, raw: Any) -> Any:
    """Turn one raw value into the stored value of field `f`; ValueError says what is wrong."""
    if f.type == "text":
        text = str(raw).strip()
        if f.max_length and len(text) > f.max_length:
            raise ValueError(_("at most %(max)s characters (got %(n)s)") % {"max": f.max_length, "n": len(text)})
        return text
    if f.type in ("integer", "decimal"):
        return _number(f, raw)
    if f.type == "date":
        return _date(raw).isoformat()
    if f.type == "boolean":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(_("%(value)r is not yes or no") % {"value": raw})
    if f.type == "choice":
        return _choice(f, raw)
    if f.type == "multichoice":
        items = raw if isinstance(raw, (list, tuple, set)) else re.split(r"[|;,]", str(raw))
        chosen = [_choice(f, item) for item in items if not is_empty(item)]
        return sorted(set(chosen), key=[c.code for c in f.choices].index)
    if f.type == "morphology":
        try:
            return str(parse_morphology(str(raw)))
        except CodeError as exc:
            raise ValueError(_(exc.template) % exc.params if exc.params else _(exc.template)) from None
    if f.type == "topography":
        try:
            return normalise_topography(str(raw))
        except CodeError as exc:
            raise ValueError(_(exc.template) % exc.params if exc.params else _(exc.template)) from None
    if f.type == "code":
        assert f.code_system is not None
        text = str(raw).strip()
        if f.code_system == "ORPHA" and text.isdigit():
            text = f"ORPHA:{text}"
        if f.code_system == "ISO3166":
            text = text.upper()
        if not _CODE_PATTERNS[f.code_system].match(text):
            raise ValueError(
                _("%(value)r is not a %(system)s code (e.g. %(example)s)")
                % {"value": raw, "system": f.code_system, "example": _CODE_EXAMPLES[f.code_system]}
            )
        return text
    raise ValueError(f"unknown field type {f.type}")  # the schema makes this unreachable


def _number(f: FieldDef, raw: Any) -> int | float:
    if isinstance(raw, bool):
        raise ValueError(_("%(value)r is not a number") % {"value": raw})
    text = str(raw).strip().replace(",", ".") if isinstance(raw, str) else raw
    try:
        number = Decimal(str(text))
    except InvalidOperation:
        raise ValueError(_("%(value)r is not a number") % {"value": raw}) from None
    if not number.is_finite():
        raise ValueError(_("%(value)r is not a finite number") % {"value": raw})
    if not math.isfinite(float(number)):
        raise ValueError(_("%(value)r is too large") % {"value": raw})
    if f.type == "integer":
        if number != number.to_integral_value():
            raise ValueError(_("%(value)r is not a whole number") % {"value": raw})
    elif f.decimals is not None:
        number = number.quantize(Decimal(1).scaleb(-f.decimals), rounding=ROUND_HALF_UP)
    value: int | float = int(number) if f.type == "integer" else float(number)
    unit = f" {f.unit}" if f.unit else ""
    if f.min is not None and value < f.min:
        raise ValueError(
            _("%(value)s%(unit)s is below the minimum %(min)s%(unit)s")
            % {"value": value, "unit": unit, "min": _fmt(f.min)}
        )
    if f.max is not None and value > f.max:
        raise ValueError(
            _("%(value)s%(unit)s is above the maximum %(max)s%(unit)s")
            % {"value": value, "unit": unit, "max": _fmt(f.max)}
        )
    return value


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _date(raw: Any) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text = str(raw).strip()
    try:
        return dt.date.fromisoformat(text[:10]) if len(text) >= 10 else dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(_("%(value)r is not a date written YYYY-MM-DD") % {"value": raw}) from None


def _choice(f: FieldDef, raw: Any) -> str:
    text = str(raw).strip()
    for c in f.choices:
        if text == c.code:
            return c.code
    for c in f.choices:  # a case-insensitive match is safe: codes never differ by case only
        if text.lower() == c.code.lower():
            return c.code
    allowed = ", ".join(c.code for c in f.choices)
    raise ValueError(_("%(value)r is not one of the allowed values (%(allowed)s)") % {"value": raw, "allowed": allowed})


def validate_record(
    form: FormDef,
    raw: Mapping[str, Any],
    *,
    context: Mapping[str, Any] | None = None,
    partial: bool = False,
    today: dt.date | None = None,
) -> Validated:
    """Check the values of one form record.

    `context` holds values of other forms as "form.field" for conditions that look across forms.
    `partial` skips required-ness, for a draft saved half-filled. Computed fields are not taken
    from input. Unknown keys are errors, so a misspelt column never vanishes silently.
    """
    result = Validated()
    known = {f.code: f for f in form.fields}
    for key in raw:
        if key not in known:
            result.errors.append(FieldError(key, _("not a field of form %(form)r") % {"form": form.code}))
    for f in form.fields:
        if f.computed or f.code not in raw or is_empty(raw[f.code]):
            continue
        try:
            result.values[f.code] = coerce(f, raw[f.code])
        except ValueError as exc:
            result.errors.append(FieldError(f.code, str(exc)))
    scope = {**(context or {}), **result.values}
    bad = {e.field for e in result.errors}
    for f in form.fields:
        if f.computed or f.code in bad:
            continue
        conditions = f.conditions()
        shown = conditions["show_if"].evaluate(scope) if "show_if" in conditions else True
        present = f.code in result.values
        if not shown and present:
            result.errors.append(FieldError(f.code, _("must be empty unless %(condition)s") % {"condition": f.show_if}))
            continue
        if partial or present or not shown:
            continue
        if f.required:
            result.errors.append(FieldError(f.code, _("required")))
        elif "required_if" in conditions and conditions["required_if"].evaluate(scope):
            result.errors.append(FieldError(f.code, _("required when %(condition)s") % {"condition": f.required_if}))
    today = today or dt.date.today()
    for f in form.fields:
        if f.type == "date" and f.code in result.values and result.values[f.code] > today.isoformat():
            result.errors.append(FieldError(f.code, _("%(date)s is in the future") % {"date": result.values[f.code]}))
    return result
