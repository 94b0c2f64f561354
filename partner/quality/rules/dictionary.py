"""Rules generated from the data dictionary: required fields, conditions, ranges, allowed values, repeats.

Nothing here names a field: adding a variable to the dictionary adds its rules. The same checks run
on every save through `validate_record`, which refuses a bad value outright; here they also find what
a draft left out, what an older dictionary version allowed, and rows entered twice.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from django.utils.translation import gettext_lazy as _

from partner.dictionary.loader import Dictionary
from partner.dictionary.schema import FieldDef, FormDef
from partner.lib.expressions import Condition

from .base import ERROR, WARNING, Context, Rule, column

Check = Callable[[Context], pd.Series]


def _frame(ctx: Context, form: FormDef) -> pd.DataFrame:
    return ctx.rows(form.code) if form.repeating else ctx.cases


def missing(series: pd.Series) -> pd.Series:
    """True where a value is absent; an empty multiple choice is absent too."""
    if series.dtype == object:
        return series.map(lambda v: v is None or v is pd.NA or v == [] or (isinstance(v, float) and v != v))
    return series.isna()


def _applies(ctx: Context, form: FormDef) -> pd.Series:
    """Where a form's completeness is due: cases past the draft, and only the entities of a tumour module."""

    def compute() -> pd.Series:
        frame = _frame(ctx, form)
        due = frame["status"] != "draft"
        if form.entities:
            due &= frame["entity"].isin(form.entities)
        return due.fillna(False).astype(bool)

    return ctx.cached(("applies", form.code), compute)


def _missing(ctx: Context, form: FormDef, code: str) -> pd.Series:
    return ctx.cached(("missing", form.code, code), lambda: missing(_frame(ctx, form)[code]))


def _holds(ctx: Context, form: FormDef, condition: Condition) -> pd.Series:
    frame = _frame(ctx, form)
    return ctx.cached(
        ("holds", form.code, condition.text),
        lambda: condition.mask(lambda name: column(frame, name.split(".")[-1])),
    )


def _required(form: FormDef, f: FieldDef) -> Check:
    shown = Condition.parse(f.show_if) if f.show_if else None

    def check(ctx: Context) -> pd.Series:
        due = _applies(ctx, form) & _missing(ctx, form, f.code)
        if shown is not None:
            due &= _holds(ctx, form, shown)
        return due

    return check


def _required_if(form: FormDef, f: FieldDef, condition: Condition) -> Check:
    def check(ctx: Context) -> pd.Series:
        return _applies(ctx, form) & _missing(ctx, form, f.code) & _holds(ctx, form, condition)

    return check


def _hidden(form: FormDef, f: FieldDef, condition: Condition) -> Check:
    def check(ctx: Context) -> pd.Series:
        return ~_missing(ctx, form, f.code) & ~_holds(ctx, form, condition)

    return check


def _out_of_range(form: FormDef, f: FieldDef) -> Check:
    def check(ctx: Context) -> pd.Series:
        values = _frame(ctx, form)[f.code]
        low = values < f.min if f.min is not None else pd.Series(False, index=values.index)
        high = values > f.max if f.max is not None else pd.Series(False, index=values.index)
        return (low | high).astype("boolean").fillna(False).astype(bool)

    return check


def _not_allowed(form: FormDef, f: FieldDef) -> Check:
    def check(ctx: Context) -> pd.Series:
        frame = _frame(ctx, form)
        invalid = ctx.frames.invalid
        invalid = invalid[invalid["field"] == f.code]
        if invalid.empty:
            return pd.Series(False, index=frame.index)
        keys = set(zip(invalid["case_id"], invalid["instance"], strict=True))
        instance = frame["instance"] if form.repeating else pd.Series(0, index=frame.index)
        pairs = zip(frame["case_id"].astype("int64"), instance.astype("int64"), strict=True)
        return pd.Series([pair in keys for pair in pairs], index=frame.index)

    return check


def _repeated(form: FormDef, key: list[str]) -> Check:
    def check(ctx: Context) -> pd.Series:
        frame = ctx.rows(form.code)
        complete = ~pd.concat([_missing(ctx, form, c) for c in key], axis=1).any(axis=1)
        return complete & frame.duplicated(subset=["case_id", *key], keep=False)

    return check


def dictionary_rules(d: Dictionary) -> list[Rule]:
    """Every rule the dictionary `d` implies, coded by kind and "form.field" (e.g. REQUIRED:diagnosis.morphology)."""
    rules: list[Rule] = []
    for form in d.forms:
        where = {"form": form.code} if form.repeating else {}
        for f in form.fields:
            if f.computed:
                continue
            name = f"{form.code}.{f.code}"
            source = f"data dictionary v{d.number}, {name}"
            conditions = f.conditions()
            if f.required:
                message = _("%(field)s is required.")
                rules.append(Rule(f"REQUIRED:{name}", ERROR, message, (name,), source, _required(form, f), **where))
            if "required_if" in conditions:
                rules.append(
                    Rule(
                        f"REQUIRED-IF:{name}",
                        ERROR,
                        _("%(field)s is required, given the answers to other questions."),
                        (name, *_other_fields(form, conditions["required_if"])),
                        f"{source}: required if {f.required_if}",
                        _required_if(form, f, conditions["required_if"]),
                        **where,
                    )
                )
            if "show_if" in conditions:
                rules.append(
                    Rule(
                        f"NOT-APPLICABLE:{name}",
                        WARNING,
                        _("%(field)s is filled in, but the answers to other questions say it does not apply."),
                        (name, *_other_fields(form, conditions["show_if"])),
                        f"{source}: asked only if {f.show_if}",
                        _hidden(form, f, conditions["show_if"]),
                        **where,
                    )
                )
            if f.min is not None or f.max is not None:
                rules.append(
                    Rule(
                        f"RANGE:{name}",
                        ERROR,
                        _("%(field)s is outside its allowed range."),
                        (name,),
                        f"{source}: from {f.min} to {f.max}",
                        _out_of_range(form, f),
                        **where,
                    )
                )
            if f.type == "choice":
                rules.append(
                    Rule(
                        f"ALLOWED:{name}",
                        ERROR,
                        _("%(field)s holds a value the data dictionary does not allow."),
                        (name,),
                        f"{source}: allowed values",
                        _not_allowed(form, f),
                        **where,
                    )
                )
        if form.repeating:
            key = [f.code for f in form.fields if f.required and not f.computed]
            if key:
                rules.append(
                    Rule(
                        f"REPEATED:{form.code}",
                        WARNING,
                        _(
                            "This row repeats another one (the same %(field)s and other key values): "
                            "was it entered twice?"
                        ),
                        tuple(f"{form.code}.{c}" for c in key),
                        f"data dictionary v{d.number}, {form.code}: rows keyed by {', '.join(key)}",
                        _repeated(form, key),
                        form=form.code,
                    )
                )
    return rules


def _other_fields(form: FormDef, condition: Condition) -> tuple[str, ...]:
    """The fields a condition reads, as form.field (a bare name is a field of the same form)."""
    names = sorted(condition.names)
    return tuple(n if "." in n else f"{form.code}.{n}" for n in names)
