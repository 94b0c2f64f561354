"""The REDCap export: the data dictionary and the records, in REDCap's import formats.

Records are one row per case, then one per instance of each repeating instrument, with raw codes.
Each case's centre is its data access group (`redcap_data_access_group`, the code as REDCap writes a
group's unique name: IT-PD as it_pd), and its identifier at the source is the `external_id` field
that the data dictionary adds after `record_id`: `partner import cases records.csv` reads them back
(partner.interop.export_tables). Text a spreadsheet would run as a formula leaves neutralised, as
from every other export.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from partner.cases.frames import CaseFrames, precision_column
from partner.dictionary import redcap
from partner.dictionary.loader import Dictionary
from partner.dictionary.schema import FieldDef

from .export_cells import TEXT_KINDS, cell, missing, neutralised, with_identifiers
from .export_tables import checkbox_suffix

OWN = ["record_id", "redcap_repeat_instrument", "redcap_repeat_instance", "redcap_data_access_group", "external_id"]
EXTERNAL_ID_NOTE = "The case's identifier in the registry it came from; a re-import finds the case by it"


def redcap_cells(f: FieldDef, value: Any, precision: Any = None) -> dict[str, str]:
    name = redcap.variable(f)
    if f.type == "multichoice":
        chosen = set(value) if isinstance(value, list) else set()
        return {f"{name}___{checkbox_suffix(c.code)}": "1" if c.code in chosen else "0" for c in f.choices}
    if missing(value):
        return {}
    if f.type == "boolean":
        return {name: "1" if value else "0"}
    return {name: neutralised(str(value)) if f.type in TEXT_KINDS else cell(value, f.type, precision)}


def redcap_header(dictionary: Dictionary) -> list[str]:
    header = list(OWN)
    for f in (f for form in dictionary.forms for f in form.fields):
        header += redcap_cells(f, []) if f.type == "multichoice" else [redcap.variable(f)]
    return header


def data_dictionary(dictionary: Dictionary) -> str:
    """REDCap's data dictionary of the forms, with `external_id` after the record's identifier."""
    rows = redcap.rows(dictionary.forms, "en")
    first = rows[0][1]
    empty = [""] * (len(redcap.COLUMNS) - 7)
    rows.insert(1, ["external_id", first, "", "text", "Identifier at the source", "", EXTERNAL_ID_NOTE, *empty])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(redcap.COLUMNS)
    writer.writerows(rows)
    return out.getvalue()


def redcap_rows(frames: CaseFrames, dictionary: Dictionary) -> Iterable[dict[str, str]]:
    """One row per case for the non-repeating forms, then one per instance of each repeating form."""
    instances: dict[int, list[dict[str, str]]] = defaultdict(list)
    for form in (form for form in dictionary.forms if form.repeating and form.code in frames.repeating):
        for record in frames.repeating[form.code].to_dict("records"):
            row = {"record_id": str(record["case_id"]), "redcap_repeat_instrument": form.code}
            row["redcap_repeat_instance"] = str(record["instance"])
            for f in form.fields:
                row.update(redcap_cells(f, record.get(f.code), record.get(precision_column(f.code))))
            instances[int(record["case_id"])].append(row)
    single = [f for form in dictionary.forms if not form.repeating for f in form.fields]
    for record in with_identifiers(frames.cases).to_dict("records"):
        row = {"record_id": str(record["case_id"]), "redcap_data_access_group": checkbox_suffix(record["centre"])}
        row["external_id"] = neutralised(record["external_id"] or "")
        for f in single:
            row.update(redcap_cells(f, record.get(f.code), record.get(precision_column(f.code))))
        yield row
        yield from instances[int(record["case_id"])]


def export_redcap(frames: CaseFrames, dictionary: Dictionary, out_dir: Path) -> list[Path]:
    """data_dictionary.csv and records.csv, in REDCap's import formats (repeating instruments, raw codes)."""
    definition = out_dir / "data_dictionary.csv"
    definition.write_text(data_dictionary(dictionary), encoding="utf-8")
    records = out_dir / "records.csv"
    with records.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, redcap_header(dictionary), restval="")
        writer.writeheader()
        writer.writerows(redcap_rows(frames, dictionary))
    return [definition, records]
