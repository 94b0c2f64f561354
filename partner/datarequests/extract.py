"""The pseudonymised extract of an approved data request, built in memory; services.py logs it.

The extract
-----------
- **Cases.** The registry's cases (all countries: the approval is the scope) that a national
  coordinator has validated, i.e. whose status is validated or locked (draft and submitted cases
  may still change, and quality control has not passed them), whose consent stands
  (`TumourCase.objects.for_analysis()`), and that the request's cohort selects
  (`partner.analysis.Cohort` on the frames of `partner.cases.frames.build_frames`). The extract is
  built afresh at each download from the registry as it is then: a case validated since is in, a
  case whose consent was withdrawn since is out.
- **Shape.** A zip of CSV files, one per form, keyed by the same `row_id`:
  `cases.csv` (one row per case: `row_id` and the approved variables of the forms that do not
  repeat), `<form>.csv` for each repeating form with an approved variable (one row per treatment
  line or follow-up event: `row_id`, `instance`, the variables), `variables.csv` (the codebook:
  label, type, unit and allowed values of each column) and `manifest.json` (the request, the
  cohort, the dictionary version and the files). Columns are named `form.field`. Rows are sorted by
  `row_id`, so their order tells nothing of when cases were registered.
- **Row ids.** HMAC-SHA256 of the case id keyed by the request's own random salt (the first 128
  bits, in hex). The same case has a different row id in every request, so two extracts cannot be
  joined; the registry's pseudonyms, case ids, centre codes and identifiers at the source never
  leave. The pseudonym field of the dictionary cannot be requested.
- **Cells** are written as the registry's exports write them (`partner.interop.exporting`), with
  its guard against spreadsheet formulas.
- **Logging.** Every extract is recorded in the export log (format CSV, the case ids, the
  destination "data request #N"), as a read of each case by the researcher in the access log,
  and on the request itself (download count and last download), so it is in the request's history.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
from django.utils import timezone

from partner.analysis import Cohort
from partner.cases.frames import CaseFrames, build_frames
from partner.cases.models import Status, TumourCase
from partner.dictionary.loader import Dictionary, get_dictionary
from partner.dictionary.schema import FieldDef, FormDef
from partner.interop.exporting import Column, csv_rows, neutralised

from .models import DataRequest

#: Statuses of the cases an extract takes: checked by a national coordinator.
EXTRACT_STATUSES = (Status.VALIDATED, Status.LOCKED)
#: The cohort's filters, as stored in `DataRequest.cohort`: lists are empty and dates None when not used.
COHORT_LISTS = ("entities", "countries", "age_groups", "sexes", "stages")
COHORT_DATES = ("period_start", "period_end")
COHORT_KEYS = COHORT_LISTS + COHORT_DATES
ROW_ID = "row_id"
ROW_ID_LENGTH = 32  # hex digits: 128 bits of the HMAC


def cohort_of(data_request: DataRequest) -> Cohort:
    c = {key: data_request.cohort.get(key) for key in COHORT_KEYS}
    period = (c["period_start"], c["period_end"]) if c["period_start"] or c["period_end"] else None
    return Cohort(
        entity=c["entities"] or None,
        countries=c["countries"] or None,
        period=period,
        age_groups=c["age_groups"] or None,
        sexes=c["sexes"] or None,
        stages=c["stages"] or None,
    )


def row_id(salt: str, case_id: int) -> str:
    """The case's pseudonymous id in one request's extract: HMAC-SHA256 keyed by the request's salt."""
    return hmac.new(salt.encode(), str(int(case_id)).encode(), hashlib.sha256).hexdigest()[:ROW_ID_LENGTH]


def cohort_frames(data_request: DataRequest, dictionary: Dictionary | None = None) -> tuple[CaseFrames, pd.DataFrame]:
    """The frames of the validated cases with standing consent, and the rows of them the cohort selects."""
    d = dictionary or get_dictionary(data_request.dictionary_version)
    cases = TumourCase.objects.filter(status__in=EXTRACT_STATUSES).for_analysis()
    frames = build_frames(cases, dictionary=d)
    return frames, cohort_of(data_request).select(frames.cases, frames.repeating.get("treatment"))


@dataclass(frozen=True)
class Extract:
    content: bytes
    filename: str
    case_ids: list[int]
    files: dict[str, int]  # file name -> rows


def _csv(header: list[str], rows: Iterable[list[str]]) -> str:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue()


def _chosen(data_request: DataRequest, dictionary: Dictionary) -> list[tuple[FormDef, FieldDef]]:
    wanted = set(data_request.variables)
    return [(form, f) for form in dictionary.forms for f in form.fields if f"{form.code}.{f.code}" in wanted]


def _codebook(chosen: list[tuple[FormDef, FieldDef]]) -> str:
    rows = [
        ["row_id", "every file", "", "Row id", "string", "", "", "The case's id in this extract only (keyed hash)"],
    ]
    for form in {form.code: form for form, _f in chosen if form.repeating}.values():
        rows.append(["instance", f"{form.code}.csv", form.code, "Instance", "integer", "", "", "1, 2, ... per case"])
    for form, f in chosen:
        values = "|".join(f"{c.code}={c.labels.en}" for c in f.choices)
        help_text = f.help.en if f.help else ""
        file = f"{form.code}.csv" if form.repeating else "cases.csv"
        rows.append([f"{form.code}.{f.code}", file, form.code, f.labels.en, f.type, f.unit or "", values, help_text])
    header = ["column", "file", "form", "label", "type", "unit", "values", "description"]
    return _csv(header, ([neutralised(cell) for cell in row] for row in rows))


def build_extract(data_request: DataRequest) -> Extract:
    """The zip of an approved request's extract (see the module's description). Writes nothing."""
    d = get_dictionary(data_request.dictionary_version)
    frames, cases = cohort_frames(data_request, d)
    case_ids = sorted(int(i) for i in cases["case_id"])
    keys = {i: row_id(data_request.salt, i) for i in case_ids}
    chosen = _chosen(data_request, d)
    files: dict[str, str] = {}
    counts: dict[str, int] = {}

    def table(name: str, frame: pd.DataFrame, fields: list[tuple[FormDef, FieldDef]], instance: bool) -> None:
        frame = frame.assign(**{ROW_ID: frame["case_id"].astype("int64").map(keys)})
        frame = frame.sort_values([ROW_ID, "instance"] if instance else [ROW_ID], ignore_index=True)
        columns = [Column(ROW_ID, "string", "Row id")]
        columns += [Column("instance", "integer", "Instance")] if instance else []
        columns += [Column(f.code, f.type, f.labels.en) for _form, f in fields]
        header = [c.name for c in columns[: 2 if instance else 1]] + [f"{form.code}.{f.code}" for form, f in fields]
        files[name] = _csv(header, csv_rows(frame, columns))
        counts[name] = len(frame)

    table("cases.csv", cases, [(form, f) for form, f in chosen if not form.repeating], instance=False)
    for form in d.forms:
        fields = [(fm, f) for fm, f in chosen if fm.code == form.code and form.repeating]
        if fields:
            rows = frames.repeating.get(form.code, pd.DataFrame(columns=["case_id", "instance"]))
            table(f"{form.code}.csv", rows[rows["case_id"].isin(case_ids)], fields, instance=True)
    files["variables.csv"] = _codebook(chosen)
    extracted = timezone.now()
    manifest = {
        "request": data_request.pk,
        "title": data_request.title,
        "approved_at": data_request.decided_at.isoformat() if data_request.decided_at else None,
        "extracted_at": extracted.isoformat(),
        "dictionary_version": data_request.dictionary_version,
        "case_statuses": [str(s) for s in EXTRACT_STATUSES],
        "cohort": data_request.cohort,
        "variables": data_request.variables,
        "files": counts,
        "row_id": "HMAC-SHA256 of the case under this request's own key: it joins the files of this extract, "
        "and nothing else",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    filename = f"data-request-{data_request.pk}-{timezone.localdate(extracted).isoformat()}.zip"
    return Extract(buffer.getvalue(), filename, case_ids, counts)
