"""One row of an import file read: its columns understood, its values mapped, its centre and its
case identifier checked, the child's identity turned into a pseudonym.

Storing a row is partner.interop.import_store's; the file as a whole (its transaction, its quality
checks and its report) is partner.interop.importing's.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from partner.accounts.countries import is_country
from partner.accounts.models import Centre, Role
from partner.cases.models import Sex
from partner.cases.scoping import registration_centres
from partner.cases.services import (
    FormError,
)
from partner.dictionary.loader import Dictionary
from partner.lib.pseudonym import Identity, pseudonym
from partner.linkage.encoding import from_text

from .export_cells import looks_like_formula
from .mapping import Mapping
from .tables import Table

CASE_COLUMNS = ("external_id", "centre")
IDENTITY_COLUMNS = ("given_names", "family_names", "date_of_birth", "sex", "country_of_birth")
ENCODED_COLUMNS = ("pseudonym", "linkage_encoding", "linkage_schema")
#: The registry's own export's columns that are not stored: registry-assigned, or derived from the
#: values stored (the import derives them again). Accepted only from an export; `country` is checked
#: against the centre's, `status` keeps a draft a draft.
EXPORT_ONLY = ("case_id", "child_id", "country", "status", "entity", "iccc_group", "iccc_extended")
#: Columns whose values are never spreadsheet text: base64 may start with "+".
_NOT_TEXT = ("linkage_encoding", "linkage_schema")
_REPEATED = re.compile(r"^([a-z][a-z0-9_]*)\.(\d{1,3})\.([a-z][a-z0-9_]*)$")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Problem:
    row: int
    column: str
    value: str
    severity: str  # error, warning or query
    rule: str  # "dictionary", "import", or a quality rule's code
    message: str
    blocking: bool = True  # stops the whole import
    file: str = ""  # the file of the row, when an import reads more than one (an export's form files)


class RowRefused(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems


@dataclass(frozen=True)
class Target:
    kind: str  # case, identity, encoded, field, or exported (an export's own column, not stored)
    name: str  # the column's meaning: external_id, sex, ...
    form: str = ""
    number: int = 1


def resolve_columns(
    table: Table, mapping: Mapping, dictionary: Dictionary, *, exported: bool = False
) -> tuple[dict[str, Target], list[Problem]]:
    """What each source column is, and a problem for each column that is none of the known things.

    From the registry's own export (`exported`), its own columns and the computed fields are accepted
    and not stored."""
    fields = {f.code: form for form in dictionary.forms if not form.repeating for f in form.fields if not f.computed}
    repeating = {
        form.code: {f.code for f in form.fields if not f.computed} for form in dictionary.forms if form.repeating
    }
    computed = {f.code for form in dictionary.forms if not form.repeating for f in form.fields if f.computed}
    computed_lines = {
        form.code: {f.code for f in form.fields if f.computed} for form in dictionary.forms if form.repeating
    }
    targets: dict[str, Target] = {}
    problems = []
    for column in table.columns:
        name = mapping.target(column)
        if name == "-":
            continue
        if name in CASE_COLUMNS:
            targets[column] = Target("case", name)
        elif name in ENCODED_COLUMNS:
            targets[column] = Target("encoded", name)
        elif name in IDENTITY_COLUMNS and name not in fields:
            targets[column] = Target("identity", name)
        elif name in fields:
            targets[column] = Target("field", name, fields[name].code)
        elif (match := _REPEATED.match(name)) and match[3] in repeating.get(match[1], ()):
            targets[column] = Target("field", match[3], match[1], int(match[2]))
        elif exported and (
            name in EXPORT_ONLY
            or name in computed
            or ((match := _REPEATED.match(name)) and match[3] in computed_lines.get(match[1], ()))
        ):
            targets[column] = Target("exported", name)
        else:
            problems.append(
                Problem(
                    1,
                    column,
                    "",
                    "error",
                    "import",
                    _(
                        "not a field of the data dictionary, nor an import column; "
                        'map it, or map it to "-" to leave it out'
                    ),
                )
            )
    chosen = {t.name for t in targets.values()}
    if "external_id" not in chosen:
        problems.append(
            Problem(
                1,
                "external_id",
                "",
                "error",
                "import",
                _("no column gives the case's identifier at the source (external_id)"),
            )
        )
    if "pseudonym" not in chosen and not {"given_names", "family_names", "date_of_birth", "sex"} <= chosen:
        problems.append(
            Problem(
                1,
                "-",
                "",
                "error",
                "import",
                _(
                    "give the identity (given_names, family_names, date_of_birth, sex, country_of_birth) "
                    "or a pseudonym column"
                ),
            )
        )
    return targets, problems


class Centres:
    """The centres a user may import into, looked up once per code."""

    def __init__(self, user: Any):
        self.user = user
        self.found: dict[str, Centre | None] = {}
        self.allowed: set[int] | None = None
        if user is not None and not user.is_superuser:
            roles = list(user.memberships.all())
            if not any(m.role == Role.EUROPEAN_COORDINATOR for m in roles):
                countries = [m.country_id for m in roles if m.role == Role.NATIONAL_COORDINATOR]
                self.allowed = set(registration_centres(user).values_list("pk", flat=True)) | set(
                    Centre.objects.filter(country_id__in=countries).values_list("pk", flat=True)
                )

    def get(self, code: str) -> Centre | None:
        if code not in self.found:
            self.found[code] = Centre.objects.select_related("country").filter(code=code.strip().upper()).first()
        centre = self.found[code]
        if centre is not None and self.allowed is not None and centre.pk not in self.allowed:
            return None
        return centre


@dataclass
class Row:
    """One row read: where its case belongs, the child's pseudonym, and the values of its forms."""

    number: int
    cells: dict[str, str]
    centre: Centre
    external_id: str
    pseudonym: str
    identity: Identity | None  # when the file gives the child's identity, not a pseudonym
    encoded: dict[str, str]  # pseudonym, linkage_encoding, linkage_schema, as a node sent them
    forms: dict[str, Any]
    #: The file's line number of each entry of a repeating form: treatment.2.* alone is line 2, not 1.
    lines: dict[str, list[int]] = field(default_factory=dict)
    #: The status the registry's own export gave the case: a draft is imported as a draft.
    exported_status: str = ""

    def gaps(self, reader: RowReader, stored: dict[str, int] | None = None) -> list[Problem]:
        """A problem for each repeating form whose lines would not follow on from 1: line 3 given while
        neither the file nor the stored case (`stored`: lines per form) has line 2."""
        problems = []
        for code, numbers in self.lines.items():
            have = (stored or {}).get(code, 0)
            for number in numbers:
                if number > have + 1:
                    column = next(c for (f, n, _field), c in reader.columns.items() if f == code and n == number)
                    problems.append(
                        Problem(
                            self.number,
                            column,
                            str(self.cells.get(column, "")),
                            "error",
                            "import",
                            _(
                                "line %(number)s of %(form)s is given, but line %(missing)s is neither in the file "
                                "nor stored: lines are numbered from 1 without gaps"
                            )
                            % {"number": number, "form": code, "missing": have + 1},
                        )
                    )
                    break
                have = max(have, number)
        return problems


class RowReader:
    """The file's columns understood once; then each row read into a `Row`, or refused with its problems."""

    def __init__(
        self, targets: dict[str, Target], mapping: Mapping, d: Dictionary, centres: Centres, default_centre: str
    ):
        self.targets = targets
        self.mapping = mapping
        self.d = d
        self.centres = centres
        self.default_centre = default_centre
        self.seen: dict[tuple[int, str], int] = {}
        types = {(form.code, f.code): f.type for form in d.forms for f in form.fields}
        self.dates = {
            column
            for column, target in targets.items()
            if types.get((target.form, target.name)) == "date" or target.name == "date_of_birth"
        }
        #: Which column gave each value: (form, line, field) -> column, to name it in the report.
        self.columns = {(t.form, t.number, t.name): column for column, t in targets.items() if t.kind == "field"}
        #: Where `-3` is a number, not a formula.
        self.numeric = {
            column
            for column, target in targets.items()
            if target.kind == "field" and types.get((target.form, target.name)) in ("integer", "decimal")
        }

    def column_of(self, name: str) -> str:
        return next((c for c, t in self.targets.items() if t.name == name), name)

    def read(self, number: int, cells: dict[str, str]) -> Row:
        problems: list[Problem] = []
        case_values: dict[str, str] = {}
        identity: dict[str, str] = {}
        encoded: dict[str, str] = {}
        forms: dict[str, Any] = {}
        exported: dict[str, str] = {}
        d, mapping, column_of = self.d, self.mapping, self.column_of
        for column, target in self.targets.items():
            text = cells.get(column, "")
            if target.kind == "exported":
                exported[target.name] = text
                continue
            value = mapping.value(target.name, text) if text else ""
            if value and looks_like_formula(value) and column not in self.numeric and target.name not in _NOT_TEXT:
                problems.append(Problem(number, column, text[:40], "error", "import", formula_message()))
                continue
            if value and column in self.dates:
                try:
                    value = mapping.date(value)
                except ValueError as exc:
                    problems.append(Problem(number, column, text, "error", "import", str(exc)))
                    continue
            if target.kind == "case":
                case_values[target.name] = value
            elif target.kind == "encoded":
                encoded[target.name] = value
            elif target.kind == "identity":
                identity[target.name] = value
            else:
                if target.form == "registration" and target.name in IDENTITY_COLUMNS:
                    identity[target.name] = value
                form = d.form_by_code[target.form]
                if form.repeating:
                    lines = forms.setdefault(target.form, {})
                    if value:
                        lines.setdefault(target.number, {})[target.name] = value
                elif value:
                    forms.setdefault(target.form, {})[target.name] = value
                else:
                    forms.setdefault(target.form, {})

        external_id = case_values.get("external_id", "")
        if not external_id:
            problems.append(
                Problem(
                    number,
                    column_of("external_id"),
                    "",
                    "error",
                    "import",
                    _("the case's identifier at the source is missing"),
                )
            )
        elif len(external_id) > 64:
            problems.append(
                Problem(
                    number, column_of("external_id"), external_id[:40], "error", "import", _("at most 64 characters")
                )
            )
        code = case_values.get("centre") or self.default_centre
        where = self.centres.get(code) if code else None
        if not code:
            problems.append(
                Problem(
                    number,
                    column_of("centre"),
                    "",
                    "error",
                    "import",
                    _("no centre: give a centre column or a default centre"),
                )
            )
        elif where is None:
            problems.append(
                Problem(
                    number,
                    column_of("centre"),
                    code,
                    "error",
                    "import",
                    _("no centre with this code that you may import into"),
                )
            )
        if where is not None and exported.get("country") and exported["country"].upper() != where.country.code:
            problems.append(
                Problem(
                    number,
                    column_of("country"),
                    exported["country"],
                    "error",
                    "import",
                    _("not the country of centre %(centre)s (%(country)s)")
                    % {"centre": where.code, "country": where.country.code},
                )
            )
        if where is not None and external_id:
            earlier = self.seen.get((where.pk, external_id))
            if earlier is not None:
                problems.append(
                    Problem(
                        number,
                        column_of("external_id"),
                        external_id,
                        "error",
                        "import",
                        _("the same case as row %(row)s: one row per case") % {"row": earlier},
                    )
                )
            self.seen[(where.pk, external_id)] = number
        key, person = _pseudonym(number, identity, encoded, column_of, problems)
        if person is None and encoded.get("linkage_encoding"):
            try:
                from_text(encoded["linkage_encoding"])
            except ValueError as exc:
                text = encoded["linkage_encoding"]
                problems.append(Problem(number, column_of("linkage_encoding"), text[:20], "error", "import", str(exc)))
        if problems:
            raise RowRefused(problems)
        assert where is not None and key is not None
        registration = forms.setdefault("registration", {})
        for name in ("date_of_birth", "sex"):
            if identity.get(name):
                registration.setdefault(name, identity[name])
        numbers: dict[str, list[int]] = {}
        for code_, given in list(forms.items()):
            form = d.form_by_code[code_]
            if form.is_module and not given:  # the columns of another tumour's module, empty for this case
                del forms[code_]
            elif form.repeating:
                numbers[code_] = sorted(given)
                forms[code_] = [given[n] for n in numbers[code_]]
        return Row(number, cells, where, external_id, key, person, encoded, forms, numbers, exported.get("status", ""))

    def refused(self, row: Row, errors: list[FormError]) -> RowRefused:
        """The dictionary's errors of a row, each named by the column that gave the value."""
        columns = self.columns
        return RowRefused(
            [
                Problem(
                    row.number,
                    columns.get((e.form, e.instance, e.field), f"{e.form}.{e.field}" if e.field != "-" else e.form),
                    str(row.cells.get(columns.get((e.form, e.instance, e.field), ""), "")),
                    "error",
                    "dictionary",
                    e.message,
                )
                for e in errors
            ]
        )


def formula_message() -> str:
    return _(
        "starts with =, +, -, @, a tab or a carriage return, which a spreadsheet runs as a formula: "
        "refused (only a number may start with - or +)"
    )


def _pseudonym(
    number: int,
    identity: dict[str, str],
    encoded: dict[str, str],
    column_of: Callable[[str], str],
    problems: list[Problem],
) -> tuple[str | None, Identity | None]:
    if encoded.get("pseudonym"):
        key = encoded["pseudonym"].strip().lower()
        if not re.fullmatch(r"[0-9a-f]{64}", key):
            problems.append(
                Problem(
                    number,
                    column_of("pseudonym"),
                    key[:20],
                    "error",
                    "import",
                    _("not a pseudonym (64 hexadecimal characters)"),
                )
            )
            return None, None
        return key, None
    missing = [n for n in ("given_names", "family_names", "date_of_birth", "sex") if not identity.get(n)]
    for name in missing:
        problems.append(Problem(number, column_of(name), "", "error", "import", _("required to derive the pseudonym")))
    if missing:
        return None, None
    # Both derive the pseudonym: a value the web would refuse would make the same child another one.
    wrong = []
    if identity["sex"].strip().lower() not in Sex.values:
        wrong.append(("sex", _("not one of %(values)s") % {"values": ", ".join(Sex.values)}))
    if identity.get("country_of_birth") and not is_country(identity["country_of_birth"]):
        wrong.append(("country_of_birth", _("not an ISO 3166 country code, e.g. IT")))
    for name, message in wrong:
        problems.append(Problem(number, column_of(name), identity[name], "error", "import", message))
    if wrong:
        return None, None
    text = identity["date_of_birth"]
    try:
        if not _ISO_DAY.fullmatch(text):
            raise ValueError(_("not a date written YYYY-MM-DD"))
        born = dt.date.fromisoformat(text)
    except ValueError as exc:
        message = str(exc) if _ISO_DAY.fullmatch(text) is None else _("not a date that exists")
        problems.append(Problem(number, column_of("date_of_birth"), text, "error", "import", message))
        return None, None
    person = Identity(
        identity["given_names"], identity["family_names"], born, identity["sex"], identity.get("country_of_birth", "")
    )
    return pseudonym(person, settings.PSEUDONYM_KEY), person
