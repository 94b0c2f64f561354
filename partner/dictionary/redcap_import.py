"""A REDCap data dictionary (the 18-column CSV) as draft tumour modules of this dictionary.

A national group brings its REDCap project's variables; the result is one module per REDCap form,
a file to review, to translate and to add to the next dictionary version (a loaded version never
changes). Nothing is lost silently: every field and check that is not carried over is listed, with
its row and the reason, and so is every variable renamed because the dictionary already has it.

- Fields REDCap marks as identifiers ("Identifier?" = y) are left out: the registry holds no
  identifying data. Kept on request, they are marked `identifying: true`, which the dictionary's
  check refuses, so they cannot be loaded by mistake.
- A variable the dictionary already has (field codes are unique across it) takes the prefix
  "<module>_", and every reference to it in branching logic follows.
- A slider's labels ("left | middle | right") go into its help text with the values they stand at.
- Presentation only (custom alignment, question numbers, matrix layout) is not carried over.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ValidationError

from partner.lib.expressions import Condition, ExpressionError

from .redcap_logic import as_number, rename_references, rewritten, translate
from .schema import FormDef

LANGUAGES = ("en", "it", "fr", "de", "pl")
_VALIDATION_TYPES = {
    "integer": "integer",
    "number": "decimal",
    "number_comma_decimal": "decimal",
    "date_ymd": "date",
    "date_dmy": "date",
    "date_mdy": "date",
}
_NUMBER_DP = re.compile(r"^number_(\d)dp(_comma_decimal)?$")
_VARIABLE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_CHOICE_CODE = re.compile(r"^[A-Za-z0-9_.+-]{1,40}$")
_CONVERTED = ("text", "notes", "dropdown", "radio", "checkbox", "yesno", "truefalse", "slider")

NoteKind = Literal["identifier", "renamed", "left out"]


class RedcapError(ValueError):
    pass


@dataclass(frozen=True)
class Note:
    """One thing the person reviewing the draft must know: `text` starts with the row and variable."""

    kind: NoteKind
    form: str
    text: str


@dataclass
class Draft:
    form: str  # the REDCap form it comes from
    module: dict[str, Any]


@dataclass
class Conversion:
    drafts: list[Draft]
    notes: list[Note] = field(default_factory=list)

    @property
    def module(self) -> dict[str, Any]:
        if len(self.drafts) != 1:
            raise ValueError(f"{len(self.drafts)} modules, not one")
        return self.drafts[0].module

    def notes_of(self, form: str, kind: NoteKind | None = None) -> list[str]:
        return [n.text for n in self.notes if n.form == form and kind in (None, n.kind)]

    @property
    def left_out(self) -> list[str]:
        return [n.text for n in self.notes if n.kind == "left out"]


@dataclass(frozen=True)
class _Row:
    number: int
    name: str
    form: str
    section: str
    kind: str
    label: str
    choices: str
    note: str
    validation: str
    low: str
    high: str
    identifier: bool
    branching: str
    required: bool
    matrix: str
    ranking: bool
    annotation: str

    @property
    def where(self) -> str:
        return f"row {self.number}, {self.name}"


def _labels(text: str) -> dict[str, str]:
    """REDCap has one language: every language gets it, to be translated before the module is loaded."""
    return dict.fromkeys(LANGUAGES, _plain(text))


def _plain(text: str) -> str:
    return re.sub(r"<[^>]+>", "", text).strip()


def _choices(text: str, where: str) -> list[dict[str, Any]]:
    choices = []
    for part in text.split("|"):
        code, comma, label = part.strip().partition(",")
        if not comma or not code.strip() or not label.strip():
            raise RedcapError(f"{where}: choice {part.strip()!r} is not written 'code, label'")
        if not _CHOICE_CODE.match(code.strip()):
            raise RedcapError(f"{where}: choice code {code.strip()!r} has characters a code may not hold")
        choices.append({"code": code.strip(), "labels": _labels(label)})
    return choices


def _slider_anchors(text: str, low: float, high: float) -> str:
    """REDCap places one label at the left, two at both ends, three at the ends and the middle."""
    labels = [_plain(part) for part in text.split("|")]
    positions = {1: [low], 2: [low, high], 3: [low, (low + high) / 2, high]}.get(len(labels))
    if positions is None:
        return " | ".join(labels)
    return "; ".join(f"{p:g} = {label}" for p, label in zip(positions, labels, strict=True) if label)


def _read(text: str) -> list[_Row]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise RedcapError("the file is empty") from None
    if len(header) < 12 or not header[0].lower().startswith("variable"):
        raise RedcapError("not a REDCap data dictionary: the first column is not 'Variable / Field Name'")
    rows = []
    for number, raw in enumerate(reader, start=2):
        if not any(c.strip() for c in raw):
            continue
        if len(raw) < 12:
            raise RedcapError(f"row {number}: {len(raw)} columns, a REDCap data dictionary has 18")
        cells = [c.strip() for c in raw] + [""] * (18 - len(raw))
        name, form, section, kind, label, choices, note, validation, low, high = cells[:10]
        rows.append(
            _Row(
                number,
                name,
                form,
                section,
                kind,
                label,
                choices,
                note,
                validation,
                low,
                high,
                identifier=cells[10].lower() == "y",
                branching=cells[11],
                required=cells[12].lower() == "y",
                matrix=cells[15],
                ranking=cells[16].lower() == "y",
                annotation=cells[17],
            )
        )
    return rows


def _renames(rows: list[_Row], module: str, taken: set[str]) -> dict[str, str]:
    """The prefix "<module>_" for every variable the dictionary already has."""
    names = {r.name for r in rows}
    renames = {}
    for row in rows:
        if row.name not in taken:
            continue
        new = f"{module}_{row.name}"
        if not _VARIABLE.match(new) or new in taken or new in names:
            raise RedcapError(
                f"{row.where}: the dictionary already has this variable and {new!r} cannot replace it "
                f"({'longer than 40 characters' if len(new) > 40 else 'taken too'}); rename it in the file"
            )
        renames[row.name] = new
    return renames


@dataclass
class _Builder:
    """The fields of one REDCap form, and the notes on what did not carry over."""

    form: str
    booleans: set[str]
    renames: dict[str, str]
    keep_identifiers: bool
    fields: list[dict[str, Any]] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    section: str = ""

    def note(self, kind: NoteKind, text: str) -> None:
        self.notes.append(Note(kind, self.form, text))

    def add(self, row: _Row, record_id: bool) -> None:
        where = row.where
        if record_id:
            self.note("left out", f"{where}: REDCap's record identifier (the registry has its own)")
            return
        if row.section:
            if self.section:
                self.note("left out", f"{where}: section header {self.section!r} has no field under it")
            self.section = row.section
        if row.kind == "descriptive":
            if self.section and row.label:
                self.note("left out", f"{where}: descriptive text {_plain(row.label)!r} not kept")
            self.section = self.section or row.label
            return
        if row.identifier and not self.keep_identifiers:
            self.note(
                "identifier",
                f"{where} ({_plain(row.label) or row.name}): an identifier in REDCap, left out "
                "(the registry holds no identifying data)",
            )
            return
        if row.kind not in _CONVERTED:
            if row.kind == "calc":
                why = (
                    f"calculated field ({rename_references(row.choices, self.renames)}) left out (no calculations here)"
                )
            else:
                why = f"field type {row.kind!r} has no equivalent here (left out)"
            self.note("left out", f"{where}: {why}")
            return
        if not _VARIABLE.match(row.name):
            raise RedcapError(f"{where}: not a variable name this dictionary accepts")
        code = self.renames.get(row.name, row.name)
        spec: dict[str, Any] = {"code": code, "labels": _labels(row.label or row.name)}
        if code != row.name:
            self.note("renamed", f"{where}: renamed {code} (the dictionary already has a field {row.name})")
        if row.identifier:
            spec["identifying"] = True
            self.note(
                "identifier",
                f"{where} ({_plain(row.label) or row.name}): an identifier in REDCap, kept and marked "
                "identifying: the dictionary's check refuses it until it is removed",
            )
        help_text = row.note
        self._type(row, spec)
        if row.kind == "slider" and row.choices:
            anchors = _slider_anchors(row.choices, spec["min"], spec["max"])
            help_text = f"{row.note} ({anchors})" if row.note else anchors
        if help_text:
            spec["help"] = _labels(help_text)
        if self.section:
            spec["section"] = _labels(self.section)
            self.section = ""
        if row.required:
            spec["required"] = True
        if row.branching:
            logic = rename_references(row.branching, self.renames)
            try:
                spec["show_if"] = translate(logic, self.booleans)
            except ExpressionError as exc:
                self.note("left out", f"{where}: branching logic {logic!r} not kept ({exc})")
        if row.ranking:
            self.note("left out", f"{where}: matrix ranking of group {row.matrix!r} not kept (no rank check here)")
        if row.annotation:
            self.note("left out", f"{where}: field annotation {row.annotation!r} not kept (action tags do not apply)")
        self.fields.append(spec)

    def _type(self, row: _Row, spec: dict[str, Any]) -> None:
        where, kind, validation = row.where, row.kind, row.validation
        if kind in ("text", "notes"):
            spec["type"] = _VALIDATION_TYPES.get(validation, "text")
            if match := _NUMBER_DP.match(validation):
                spec["type"], spec["decimals"] = "decimal", int(match[1])
            if validation and spec["type"] == "text":
                self.note("left out", f"{where}: text validation {validation!r} not kept (the field takes any text)")
            for key, value in (("min", row.low), ("max", row.high)):
                if not value:
                    continue
                if spec["type"] not in ("integer", "decimal"):
                    self.note("left out", f"{where}: {key} {value!r} not kept (only numbers have a range here)")
                elif (number := as_number(value)) is None:
                    self.note("left out", f"{where}: {key} {value!r} not kept (not a number)")
                else:
                    spec[key] = number
        elif kind in ("dropdown", "radio"):
            spec["type"], spec["choices"] = "choice", _choices(row.choices, where)
        elif kind == "checkbox":
            spec["type"], spec["choices"] = "multichoice", _choices(row.choices, where)
        elif kind in ("yesno", "truefalse"):
            spec["type"] = "boolean"
        elif kind == "slider":
            low, high = as_number(row.low or "0"), as_number(row.high or "100")
            if low is None or high is None or low >= high:
                self.note("left out", f"{where}: slider range {row.low!r} to {row.high!r} not kept (0 to 100 instead)")
                low, high = 0.0, 100.0
            spec.update(type="integer", min=low, max=high)

    def finish(self) -> None:
        if self.section:
            self.note("left out", f"form {self.form}: section header {self.section!r} has no field under it")


def convert(
    text: str,
    *,
    module: str,
    entity: str,
    label: str = "",
    form: str | None = None,
    taken: set[str] | frozenset[str] = frozenset(),
    keep_identifiers: bool = False,
) -> Conversion:
    """Draft modules for `entity` from the CSV `text`: one per REDCap form, or only `form`.

    One module is coded `module`; several are coded "<module>_<form>". `taken` are the field codes
    the dictionary already has.
    """
    if not _VARIABLE.match(module):
        raise RedcapError(f"module code {module!r}: lower-case letters, digits and _, starting with a letter")
    rows = _read(text)
    forms = list(dict.fromkeys(r.form for r in rows))
    if form is not None and form not in forms:
        raise RedcapError(f"no form {form!r} in the file (its forms: {', '.join(forms) or 'none'})")
    renames = _renames(rows, module, set(taken))
    booleans = {renames.get(r.name, r.name) for r in rows if r.kind in ("yesno", "truefalse")}
    record_id = rows[0] if rows and rows[0].kind == "text" else None
    notes: list[Note] = []
    built: list[_Builder] = []
    for name in [form] if form is not None else forms:
        builder = _Builder(name, booleans, renames, keep_identifiers)
        for row in rows:
            if row.form == name:
                builder.add(row, record_id=row is record_id or row.name == "record_id")
        builder.finish()
        notes.extend(builder.notes)
        if builder.fields:
            built.append(builder)
        else:
            notes.append(Note("left out", name, f"form {name}: no field left to convert, no module written"))
    if not built:
        raise RedcapError(f"no field to convert{f' in form {form!r}' if form else ''}")
    if label and len(built) > 1:
        raise RedcapError(f"a label names one module, and {len(built)} forms have fields: pick one form")
    codes = {b.form: module if len(built) == 1 else f"{module}_{b.form}" for b in built}
    for name, code in codes.items():
        if not _VARIABLE.match(code):
            raise RedcapError(f"form {name}: its module code {code!r} is not a code (at most 40 characters)")
    home = {spec["code"]: codes[b.form] for b in built for spec in b.fields}
    numeric = {spec["code"] for b in built for spec in b.fields if spec["type"] in ("integer", "decimal")}
    drafts = []
    for position, builder in enumerate(built):
        own = {spec["code"] for spec in builder.fields}
        for spec in builder.fields:
            if "show_if" not in spec:
                continue
            condition = Condition.parse(spec["show_if"])
            outside = condition.names - own
            if outside - home.keys():
                where = f"{spec['code']}: branching logic on {', '.join(sorted(outside - home.keys()))}"
                notes.append(Note("left out", builder.form, f"{where}, a field that is not converted (not kept)"))
                del spec["show_if"]
            else:
                spec["show_if"] = rewritten(condition, {n: home[n] for n in outside}, numeric)
        result = {
            "code": codes[builder.form],
            "order": 900 + position,
            "entities": [entity],
            "labels": _labels(label or builder.form.replace("_", " ").capitalize()),
            "fields": builder.fields,
        }
        _check(result)
        drafts.append(Draft(builder.form, result))
    return Conversion(drafts, notes)


def _check(module: dict[str, Any]) -> None:
    """The draft must pass the dictionary's schema, but for `identifying`, which the check refuses on purpose."""
    shown = {**module, "fields": [{k: v for k, v in f.items() if k != "identifying"} for f in module["fields"]]}
    try:
        FormDef.model_validate(shown)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise RedcapError(
            f"the converted module {module['code']} does not pass the dictionary's schema: "
            f"{first['loc']}: {first['msg']}"
        ) from None
