"""Exports of the registry's cases: pooled CSV, a Frictionless data package, REDCap, FHIR and Phenopackets.

    export_cases("datapackage", Path("out"), user=request.user)

Cases are read through `restrict(user)` (all of them when the registry exports for itself) and
`for_analysis()`: a case whose consent was withdrawn never leaves the registry. The files are written
into a hidden folder beside the destination and moved in only once complete, and every export is
recorded in the export log (for a person, also as a read of each case exported).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from django.db import transaction

from partner.cases.frames import CaseFrames, build_frames, precision_column
from partner.cases.models import AccessLog, Status, TumourCase
from partner.dictionary.loader import Dictionary, get_dictionary
from partner.dictionary.schema import FieldDef, FormDef

from .export_cells import FORMULA_STARTS, cell, neutralised, with_identifiers
from .export_tables import checkbox_suffix
from .models import ExportLog
from .redcap_export import export_redcap

__all__ = ["FORMULA_STARTS", "checkbox_suffix", "export_cases", "export_redcap", "neutralised"]

FORMATS = tuple(ExportLog.Format.values)


class ExportError(Exception):
    pass


class ExportWriteError(ExportError, OSError):
    """The files could not be written (a full disk, a quota): nothing was exported."""


@dataclass(frozen=True)
class Column:
    """One column of an exported table: a dictionary field, or one of the case's own columns."""

    name: str
    kind: str  # a dictionary field type, or "integer" / "string" for the case's own columns
    title: str
    description: str = ""
    required: bool = False
    field: FieldDef | None = None
    enum: tuple[str, ...] = ()


def case_columns(dictionary: Dictionary) -> list[Column]:
    pseudonym = next((f for form in dictionary.forms for f in form.fields if f.computed == "pseudonym"), None)
    own = [
        Column("case_id", "integer", "Case", "The registry's identifier of the tumour case", required=True),
        Column(
            "external_id",
            "string",
            "Identifier at the source",
            "The case's identifier in the registry it came from (empty for a case registered here); "
            "a re-import finds the case by its centre and this identifier",
        ),
        Column(
            "pseudonym",
            "string",
            pseudonym.labels.en if pseudonym else "Pseudonym",
            "The child's pseudonym in the registry (keyed hash; names are never stored)",
            required=True,
        ),
        Column("child_id", "integer", "Child", "One per child: the cases of linked pseudonyms share it", required=True),
        Column("centre", "string", "Centre", "Code of the registering centre", required=True),
        Column("country", "string", "Country", "ISO 3166 code of the centre's country", required=True),
        Column("status", "string", "Status", "Status of the case record", required=True, enum=tuple(Status.values)),
        Column("entity", "string", "VRT entity", "Code of the very rare tumour entity, empty when unclassified"),
        Column("iccc_group", "string", "ICCC-3 group", "ICCC-3 (IARC 2017) subgroup"),
        Column("iccc_extended", "string", "ICCC-3 extended group", "ICCC-3 (IARC 2017) extended classification"),
    ]
    taken = {c.name for c in own}
    fields = [f for form in dictionary.forms if not form.repeating for f in form.fields if f.code not in taken]
    return own + [_field_column(f) for f in fields]


def repeating_columns(form: FormDef) -> list[Column]:
    return [
        Column("case_id", "integer", "Case", "The case this row belongs to", required=True),
        Column("instance", "integer", "Instance", "1, 2, ... for the rows of one case", required=True),
    ] + [_field_column(f) for f in form.fields]


def _field_column(f: FieldDef) -> Column:
    parts = [f.help.en] if f.help else []
    if f.unit:
        parts.append(f"Unit: {f.unit}.")
    if f.type == "multichoice":
        parts.append('Any of the codes, separated by "|".')
    if f.partial_dates:
        known = " or ".join({"day": "YYYY-MM-DD", "month": "YYYY-MM", "year": "YYYY"}[p] for p in f.precision)
        parts.append(f"A date known to the day or less: {known} (ISO 8601).")
    return Column(f.code, f.type, f.labels.en, " ".join(parts), field=f)


# --- Cells --------------------------------------------------------------------------------------

PARTIAL_DATE_PATTERN = r"\d{4}(-\d{2}(-\d{2})?)?"


def csv_rows(frame: pd.DataFrame, columns: list[Column]) -> Iterable[list[str]]:
    """The frame's rows as the cells of a CSV file: each value written as its column's kind is, and
    text that a spreadsheet would run as a formula neutralised."""
    values = [frame[c.name].tolist() if c.name in frame else [None] * len(frame) for c in columns]
    precisions = [
        frame[precision_column(c.name)].tolist() if precision_column(c.name) in frame else [None] * len(frame)
        for c in columns
    ]
    for row, row_precisions in zip(zip(*values, strict=True), zip(*precisions, strict=True), strict=True):
        yield [cell(v, c.kind, p) for v, c, p in zip(row, columns, row_precisions, strict=True)]


def _write(path: Path, header: list[str], rows: Iterable[list[Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# --- CSV and data package -----------------------------------------------------------------------


def export_csv(frames: CaseFrames, dictionary: Dictionary, out_dir: Path) -> list[Path]:
    """cases.csv (one row per case) and one file per repeating form (one row per instance)."""
    columns = case_columns(dictionary)
    cases = with_identifiers(frames.cases)
    written = [_write(out_dir / "cases.csv", [c.name for c in columns], csv_rows(cases, columns))]
    for form in dictionary.forms:
        if form.repeating:
            columns = repeating_columns(form)
            frame = frames.repeating.get(form.code, pd.DataFrame(columns=[c.name for c in columns]))
            written.append(_write(out_dir / f"{form.code}.csv", [c.name for c in columns], csv_rows(frame, columns)))
    return written


_FRICTIONLESS_TYPES = {"integer": "integer", "decimal": "number", "date": "date", "boolean": "boolean"}


def _schema_field(column: Column) -> dict[str, Any]:
    out: dict[str, Any] = {"name": column.name, "type": _FRICTIONLESS_TYPES.get(column.kind, "string")}
    out["title"] = column.title
    if column.description:
        out["description"] = column.description
    constraints: dict[str, Any] = {}
    if column.required:
        constraints["required"] = True
    f = column.field
    if f is not None and f.partial_dates:
        # No Table Schema type takes a date, a year-month and a year in one column: text of that shape.
        out["type"] = "string"
        constraints["pattern"] = PARTIAL_DATE_PATTERN
    codes = [c.code for c in f.choices] if f else list(column.enum)
    if codes and column.kind != "multichoice":
        constraints["enum"] = [neutralised(code) for code in codes]
    if codes and column.kind == "multichoice":
        one = "(" + "|".join(re.escape(code) for code in codes) + ")"
        lead = "'?" if any(code.startswith(FORMULA_STARTS) for code in codes) else ""
        constraints["pattern"] = rf"{lead}{one}(\|{one})*"
    if f is not None and f.type in ("integer", "decimal"):
        cast: Callable[[float], int | float] = int if f.type == "integer" else float
        if f.min is not None:
            constraints["minimum"] = cast(f.min)
        if f.max is not None:
            constraints["maximum"] = cast(f.max)
    if constraints:
        out["constraints"] = constraints
    return out


def _resource(name: str, title: str, columns: list[Column], key: list[str]) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "fields": [_schema_field(c) for c in columns],
        "missingValues": [""],
        "primaryKey": key,
    }
    if name != "cases":
        schema["foreignKeys"] = [{"fields": "case_id", "reference": {"resource": "cases", "fields": "case_id"}}]
    return {
        "name": name,
        "path": f"{name}.csv",
        "title": title,
        "profile": "tabular-data-resource",
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "schema": schema,
    }


def datapackage_descriptor(dictionary: Dictionary) -> dict[str, Any]:
    """The data package of an export, its table schemas generated from the dictionary."""
    resources = [_resource("cases", "Tumour cases", case_columns(dictionary), ["case_id"])]
    resources += [
        _resource(form.code, form.labels.en, repeating_columns(form), ["case_id", "instance"])
        for form in dictionary.forms
        if form.repeating
    ]
    return {
        "profile": "tabular-data-package",
        "name": "partner-vrt-registry",
        "title": "PARTNER registry of paediatric very rare tumours",
        "description": (
            f"Pseudonymised cases, data dictionary version {dictionary.number} "
            f"({dictionary.release.title.en}). Cases whose consent was withdrawn are left out."
        ),
        "created": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
        "resources": resources,
    }


def export_datapackage(frames: CaseFrames, dictionary: Dictionary, out_dir: Path) -> list[Path]:
    written = export_csv(frames, dictionary, out_dir)
    descriptor = out_dir / "datapackage.json"
    descriptor.write_text(json.dumps(datapackage_descriptor(dictionary), indent=2, ensure_ascii=False) + "\n")
    return [*written, descriptor]


# --- One JSON document per case -------------------------------------------------------------------


def _export_documents(fmt: str, cases: Any, out_dir: Path) -> list[Path]:
    document: Callable[[TumourCase], Any]
    if fmt == "fhir":
        try:
            from partner.interop.fhir import case_bundle
        except ModuleNotFoundError:
            from partner.interop.fhir_export import case_bundle

        document = case_bundle
    else:
        from partner.interop.phenopackets import case_phenopacket

        document = case_phenopacket
    written = []
    related = cases.select_related("patient", "centre__country", "entity", "dictionary_version")
    for case in related.order_by("pk").iterator(chunk_size=200):
        path = out_dir / f"case-{case.pk}.json"
        path.write_text(json.dumps(document(case), indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
        written.append(path)
    return written


# --- The export, scoped, logged and all or nothing --------------------------------------------------

WRITERS: dict[str, Callable[[CaseFrames, Dictionary, Path], list[Path]]] = {
    "csv": export_csv,
    "datapackage": export_datapackage,
    "redcap": export_redcap,
}


def select_cases(*, user: Any = None, case_ids: Iterable[int] | None = None) -> Any:
    """The cases an export takes: the user's scope (everything for the registry), consent standing."""
    scope = TumourCase.objects.all() if user is None else TumourCase.objects.restrict(user)
    cases = scope.for_analysis()
    if case_ids is None:
        return cases
    wanted = sorted(set(case_ids))
    found = set(cases.filter(pk__in=wanted).values_list("pk", flat=True))
    missing = [i for i in wanted if i not in found]
    if missing:
        withdrawn = set(scope.filter(pk__in=missing, withdrawal__isnull=False).values_list("pk", flat=True))
        unknown = "no such case" if user is None else "no such case in your scope"
        reasons = [f"case {i}: {'consent withdrawn' if i in withdrawn else unknown}" for i in missing]
        raise ExportError("; ".join(reasons) + "; nothing exported")
    return cases.filter(pk__in=wanted)


def _staging(out_dir: Path) -> Path:
    if out_dir.exists() and not out_dir.is_dir():
        raise ExportError(f"{out_dir} is a file: give a folder to export into")
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{out_dir.name or 'export'}.", suffix=".partial", dir=out_dir.parent))
    except OSError as exc:
        raise ExportError(f"cannot write beside {out_dir}: {exc.strerror or exc}") from None


def _move_into_place(staging: Path, written: list[Path], out_dir: Path) -> list[Path]:
    """A new folder arrives whole (one rename); into an existing one each file is replaced whole."""
    names = [p.relative_to(staging) for p in written]
    if not out_dir.exists():
        staging.rename(out_dir)
    else:
        for name in names:
            os.replace(staging / name, out_dir / name)
    return [out_dir / name for name in names]


def export_cases(
    fmt: str,
    out_dir: Path | str,
    *,
    user: Any = None,
    case_ids: Iterable[int] | None = None,
    channel: str = AccessLog.Channel.WEB,
    destination: str | None = None,
) -> list[Path]:
    """Export the cases `user` may see (all of them without a user) in `fmt` into the folder `out_dir`.

    `destination` is what the export log records as where the files went (default: the folder), e.g.
    "download" when a view sends them on. Returns the files written.
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")
    out_dir = Path(out_dir)
    cases = select_cases(user=user, case_ids=case_ids)
    staging = _staging(out_dir)
    try:
        try:
            if fmt in WRITERS:
                frames = build_frames(cases)
                ids = [int(i) for i in frames.cases["case_id"]]
                written = WRITERS[fmt](frames, get_dictionary(), staging)
            else:
                written = _export_documents(fmt, cases, staging)
                ids = sorted(int(p.stem.removeprefix("case-")) for p in written)
        except OSError as exc:
            kept = "the files already there are unchanged" if out_dir.exists() else "no folder was left there"
            raise ExportWriteError(
                f"cannot write the export into {out_dir} ({exc.strerror or exc}); nothing exported, {kept}"
            ) from exc
        with transaction.atomic():
            ExportLog.objects.create(
                user=user,
                format=fmt,
                case_count=len(ids),
                case_ids=ids,
                destination=destination or str(out_dir.resolve()),
            )
            if user is not None:
                AccessLog.objects.bulk_create(
                    [AccessLog(user=user, case_id=i, channel=channel, what=f"export {fmt}") for i in ids],
                    batch_size=500,
                )
            return _move_into_place(staging, written, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
