"""The one validator of form values, generated from the dictionary.

Web forms, the API and imports all call `validate_record`; it turns raw values (strings from a
form or a CSV cell, or JSON) into typed values and reports every problem by field code.
Stored values are JSON-friendly: dates as ISO strings, multichoice as lists.

A value is stored as it was meant or refused: nothing is cut, rounded, guessed from a loose
spelling or read as another number. The only liberties taken are those that cannot change what a
value says: spaces around it, a decimal comma, and a code's case or usual spelling (it for IT,
C740 for C74.0, 1501 for ORPHA:1501).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django_countries import countries

from partner.lib.dates import PartialDate
from partner.lib.icdo import CodeError, normalise_topography, parse_morphology

from .schema import FieldDef, FormDef

#: No one-letter answers: a file coded S/N (si/no) or T/N (tak/nie) would have its noes read and its yeses refused.
_TRUE = {"true", "yes", "1"}
_FALSE = {"false", "no", "0"}
#: A number as written: digits, a point or a comma before the decimals, an exponent; ASCII digits only.
_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?", re.ASCII)
#: "1,000" and "1.000": a thousand grouped in one language, one with three decimals in another.
_GROUPED = re.compile(r"[+-]?[1-9]\d{0,2}[.,]\d{3}", re.ASCII)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_ISO_PARTIAL = re.compile(r"\d{4}(-\d{2})?", re.ASCII)
_CODE_PATTERNS = {
    "ORPHA": re.compile(r"(ORPHA:)?\d{1,7}", re.ASCII),
    "HGNC": re.compile(r"HGNC:\d{1,6}|[A-Z][A-Z0-9-]{0,15}", re.ASCII),
    "HPO": re.compile(r"HP:\d{7}", re.ASCII),
    "ICF": re.compile(r"[bsde]\d{1,5}(\.\d{1,3})?", re.ASCII),
    "HGVS": re.compile(r"[!-~]+:[cgpnmr]\.[!-~]+", re.ASCII),
    "UCUM": re.compile(r"[!-~]{1,20}", re.ASCII),
}
_CODE_EXAMPLES = {
    "ORPHA": "ORPHA:1501",
    "HGNC": "TP53 or HGNC:11998",
    "HPO": "HP:0001250",
    "ICF": "b1440",
    "HGVS": "NM_000546.6:c.1010G>A",
    "UCUM": "mg/L",
}
#: Tab and line breaks are text; other control characters (and halves of surrogate pairs) never are.
_TEXT_CONTROLS = {"\t", "\n", "\r"}


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
    """No answer: None, blank text or an empty list. A NaN is not "no answer": it is refused as a value."""
    if value is None:
        return True
    if isinstance(value, str) and not value.strip():
        return True
    return isinstance(value, (list, tuple, set)) and not value


def coerce(f: FieldDef, raw: Any) -> Any:
    """Turn one raw value into the stored value of field `f`; ValueError says what is wrong."""
    if f.type == "text":
        return _text(f, raw)
    if f.type in ("integer", "decimal"):
        return _number(f, raw)
    if f.type == "date":
        return _partial_date(f, raw) if f.partial_dates else _full_date(f, raw)
    if f.type == "boolean":
        return _boolean(raw)
    if f.type == "choice":
        return _choice(f, raw)
    if f.type == "multichoice":
        items = raw if isinstance(raw, (list, tuple, set)) else re.split(r"[|;,]", _code_text(raw))
        chosen = [_choice(f, item) for item in items if not is_empty(item)]
        return sorted(set(chosen), key=[c.code for c in f.choices].index)
    if f.type == "morphology":
        try:
            return str(parse_morphology(_code_text(raw)))
        except CodeError as exc:
            raise ValueError(_(exc.template) % exc.params if exc.params else _(exc.template)) from None
    if f.type == "topography":
        try:
            return normalise_topography(_code_text(raw))
        except CodeError as exc:
            raise ValueError(_(exc.template) % exc.params if exc.params else _(exc.template)) from None
    if f.type == "code":
        assert f.code_system is not None
        return _code(f.code_system, raw)
    raise ValueError(f"unknown field type {f.type}")  # the schema makes this unreachable


def _text(f: FieldDef, raw: Any) -> str:
    if not isinstance(raw, str):  # a number written as text may lose its form: 1.10 would become "1.1"
        raise ValueError(_("%(value)r is not text (give it as a string)") % {"value": raw})
    text = raw.strip()
    bad = next((c for c in text if c not in _TEXT_CONTROLS and unicodedata.category(c) in ("Cc", "Cs")), None)
    if bad is not None:
        raise ValueError(
            _("%(value)r holds a control character (U+%(code)04X), which no text of the registry may hold")
            % {"value": raw, "code": ord(bad)}
        )
    if f.max_length and len(text) > f.max_length:
        raise ValueError(
            ngettext("at most %(max)s character (got %(n)s)", "at most %(max)s characters (got %(n)s)", f.max_length)
            % {"max": f.max_length, "n": len(text)}
        )
    return text


def _code_text(raw: Any) -> str:
    """A code given as text, or as a whole number (an ORPHA number, a numeric choice); nothing else is read."""
    if isinstance(raw, str):
        return raw.strip()
    if isinstance(raw, int) and not isinstance(raw, bool):
        return str(raw)
    raise ValueError(_("%(value)r is not a code (give it as a string)") % {"value": raw})


def _code(system: str, raw: Any) -> str:
    text = _code_text(raw)
    if system == "ISO3166":
        # Upper-casing ASCII only: a dotless i with a t, or the fi ligature, would otherwise become IT or FI.
        code = text.upper() if text.isascii() else text
        if code not in countries:
            raise ValueError(_("%(value)r is not the ISO 3166-1 code of a country (e.g. IT, FR, GB)") % {"value": raw})
        return code
    if system == "ORPHA" and text.isascii() and text.isdigit():
        text = f"ORPHA:{text}"
    if not _CODE_PATTERNS[system].fullmatch(text):
        raise ValueError(
            _("%(value)r is not a %(system)s code (e.g. %(example)s)")
            % {"value": raw, "system": system, "example": _CODE_EXAMPLES[system]}
        )
    return text


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = raw.strip().lower() if isinstance(raw, str) else None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(_("%(value)r is not yes or no (write yes, no, true, false, 1 or 0)") % {"value": raw})


def _number(f: FieldDef, raw: Any) -> int | float:
    """The number as written, or a refusal: never rounded, never read with a separator taken the other way."""
    kept = 0 if f.type == "integer" else f.decimals
    if isinstance(raw, str):
        text = raw.strip()
        if not _NUMBER.fullmatch(text):
            raise ValueError(
                _("%(value)r is not a number (write digits, with a point or a comma before the decimals)")
                % {"value": raw}
            )
        if _GROUPED.fullmatch(text) and (kept is None or kept < 3):
            raise ValueError(
                _(
                    "%(value)r could be read two ways: a point or a comma before three digits groups thousands "
                    "in some languages and marks decimals in others; write the number without a thousands "
                    "separator (e.g. %(plain)s)"
                )
                % {"value": raw, "plain": re.sub(r"[.,]", "", text)}
            )
        number = Decimal(text.replace(",", "."))
    elif isinstance(raw, (int, float, Decimal)) and not isinstance(raw, bool):
        number = Decimal(str(raw)) if isinstance(raw, float) else Decimal(raw)  # str: 4.96, not its binary expansion
    else:
        raise ValueError(_("%(value)r is not a number") % {"value": raw})
    if not number.is_finite():
        raise ValueError(_("%(value)r is not a finite number") % {"value": raw})
    as_float = float(number)
    if not math.isfinite(as_float):
        raise ValueError(_("%(value)r is too large") % {"value": raw})
    places = _places(number)
    if f.type == "integer" and places:
        raise ValueError(_("%(value)r is not a whole number") % {"value": raw})
    if kept is not None and places > kept:
        if kept == 0:
            raise ValueError(_("%(value)r has decimals: this field keeps whole numbers only") % {"value": raw})
        raise ValueError(
            ngettext(
                "%(value)r has more decimals than this field keeps (%(n)s decimal place): "
                "give it rounded as you mean it",
                "%(value)r has more decimals than this field keeps (%(n)s decimal places): "
                "give it rounded as you mean it",
                kept,
            )
            % {"value": raw, "n": kept}
        )
    if f.type == "decimal" and Decimal(repr(as_float)) != number:
        raise ValueError(_("%(value)r has more significant digits than the registry can store (15)") % {"value": raw})
    value: int | float = int(number) if f.type == "integer" else as_float
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


def _places(number: Decimal) -> int:
    """The decimal places a finite number needs, trailing zeros aside: 4.960 needs 2, 1E+3 none.

    Counted from its digits: Decimal's quantize and normalize work to 28 digits and would fail or round.
    """
    if not number:
        return 0
    _sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)  # finite
    zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(exponent + zeros))


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _date(raw: Any) -> dt.date:
    if isinstance(raw, dt.datetime):
        if raw.time() != dt.time(0) or raw.tzinfo is not None:
            raise ValueError(_("%(value)s is a date and time: give the date alone, YYYY-MM-DD") % {"value": raw})
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    text = raw.strip() if isinstance(raw, str) else ""
    if not _ISO_DATE.fullmatch(text):
        raise ValueError(_("%(value)r is not a date written YYYY-MM-DD") % {"value": raw})
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(_("%(value)r is not a date that exists") % {"value": raw}) from None


def _full_date(f: FieldDef, raw: Any) -> str:
    if isinstance(raw, str) and _ISO_PARTIAL.fullmatch(raw.strip()):
        raise ValueError(
            _("%(value)r gives only the month or the year: %(field)s needs a full date, YYYY-MM-DD")
            % {"value": raw, "field": f.labels.get(get_language() or "en")}
        )
    return _date(raw).isoformat()


def _partial_date(f: FieldDef, raw: Any) -> str:
    """A date to the day, the month ("2019-05") or the year ("2019"), as far as the field allows."""
    if isinstance(raw, (dt.date, dt.datetime)):
        return _date(raw).isoformat()
    text = raw.strip() if isinstance(raw, str) else ""
    if not (_ISO_DATE.fullmatch(text) or _ISO_PARTIAL.fullmatch(text)):
        raise ValueError(_("%(value)r is not a date written YYYY-MM-DD, YYYY-MM or YYYY") % {"value": raw})
    try:
        date = PartialDate.parse(text)
    except ValueError:
        raise ValueError(_("%(value)r is not a date that exists") % {"value": raw}) from None
    if date.precision not in f.precision:
        raise ValueError(
            _("%(value)r is not precise enough: %(field)s needs at least the month, YYYY-MM")
            % {"value": raw, "field": f.labels.get(get_language() or "en")}
        )
    return date.iso


def _choice(f: FieldDef, raw: Any) -> str:
    text = _code_text(raw)
    for c in f.choices:
        if text == c.code:
            return c.code
    # Another case is read only where it names one code: ASCII (the Kelvin sign lower-cases to k), and
    # not when two codes differ by case alone.
    same = [c.code for c in f.choices if text.isascii() and text.lower() == c.code.lower()]
    if len(same) == 1:
        return same[0]
    if same:
        raise ValueError(
            _("%(value)r could be any of %(codes)s, which differ only in upper and lower case: write the one you mean")
            % {"value": raw, "codes": ", ".join(same)}
        )
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
        # A partial date is in the future only when all of it is: "this year" is not.
        if f.type == "date" and f.code in result.values and PartialDate.parse(result.values[f.code]).earliest > today:
            result.errors.append(FieldError(f.code, _("%(date)s is in the future") % {"date": result.values[f.code]}))
    return result
