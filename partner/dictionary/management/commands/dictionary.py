"""partner dictionary {check,load,classify,export}: the data dictionary from the command line."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import tempfile
from argparse import ArgumentParser
from dataclasses import asdict
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from tqdm import tqdm

from partner.dictionary import redcap
from partner.dictionary.classify import Classifier
from partner.dictionary.definitions import DefinitionErrors, read_definitions
from partner.dictionary.loader import NoDictionary, VersionConflict, get_dictionary, load_bundled
from partner.dictionary.schema import LANGUAGES
from partner.lib.icdo import CodeError

CLASSIFY_IN = ["morphology", "topography", "age_years"]
CLASSIFY_OUT = ["iccc_group", "iccc_extended", "entity", "vrt", "expert_scope", "reason"]


def _write_atomically(path: Path, text: str) -> None:
    """Write the whole file or nothing: a half-written export is worse than none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _module_yaml(source: Path, draft: Any, notes: list[Any]) -> str:
    import yaml

    heading = [
        f"# Draft tumour module converted from the REDCap data dictionary {source.name}.",
        f"# REDCap form: {draft.form}.",
        "# Every label is in REDCap's language in all five languages: translate them, review the",
        "# fields, then add this file to the modules of the next dictionary version.",
        *(f"# {n.kind.capitalize()}: {' '.join(n.text.split())}" for n in notes),
    ]
    body = yaml.safe_dump(draft.module, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(heading) + "\n" + body


class Command(BaseCommand):
    help = "Check, load, export the data dictionary, and classify ICD-O-3 codes with it."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        check = sub.add_parser("check", help="check definition files; exit status 1 on any problem")
        check.add_argument("path", nargs="?", type=Path, help="a version folder (default: the newest bundled)")

        load = sub.add_parser("load", help="load the bundled definitions (or PATH) as immutable rows")
        load.add_argument("path", nargs="?", type=Path)

        classify = sub.add_parser("classify", help="classify to ICCC-3 and a VRT entity")
        classify.add_argument("--morphology", help="ICD-O-3 morphology with behaviour, e.g. 8370/3")
        classify.add_argument("--topography", help="ICD-O-3 topography, e.g. C74.0")
        classify.add_argument("--age-years", type=float, help="age at diagnosis in years")
        classify.add_argument("--json", action="store_true", help="print JSON")
        classify.add_argument("--csv", type=Path, help="classify a CSV with columns " + ", ".join(CLASSIFY_IN))
        classify.add_argument("--out", type=Path, help="with --csv: where to write the result")
        classify.add_argument("--version", type=int, help="dictionary version (default: in force)")

        export = sub.add_parser("export", help="export the dictionary")
        export.add_argument("--format", choices=["redcap", "json"], required=True)
        export.add_argument("--out", type=Path, required=True)
        export.add_argument("--language", choices=LANGUAGES, default="en", help="labels for REDCap")
        export.add_argument("--version", type=int, help="dictionary version (default: in force)")

        redcap = sub.add_parser(
            "from-redcap",
            help="turn a REDCap data dictionary CSV into draft tumour modules (YAML files to review, "
            "translate and add to the next dictionary version)",
            description="One module per REDCap form. With one form (or --form) the module is coded MODULE "
            "and --out may name its .yaml file; with several, each is coded MODULE_FORM and --out is a folder "
            "that gets one MODULE_FORM.yaml per form. Listed on stderr and at the top of each file: identifier "
            "fields (left out unless --keep-identifiers), variables the dictionary already has (renamed "
            "MODULE_NAME, in branching logic too), and every field, range, validation, branching logic, matrix "
            "ranking or annotation not carried over. A slider's labels go into its help text.",
        )
        redcap.add_argument("file", type=Path, help="the REDCap data dictionary (.csv)")
        redcap.add_argument(
            "--module",
            required=True,
            help="the module's code, e.g. hepatoblastoma_trep; with several forms, the prefix of their codes",
        )
        redcap.add_argument("--entity", required=True, help="the VRT entity it is for, e.g. ACC")
        redcap.add_argument("--form", "--instrument", dest="form", help="convert only this REDCap form (instrument)")
        redcap.add_argument("--label", default="", help="the module's name, with one form (default: the form's)")
        redcap.add_argument(
            "--keep-identifiers",
            action="store_true",
            help="keep the fields REDCap marks as identifiers, marked identifying: true (the dictionary's "
            "check refuses them: no module holds identifying data)",
        )
        redcap.add_argument(
            "--out",
            type=Path,
            required=True,
            help="the module file (.yaml) with one form, or a folder for one file per form",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, f"_{options['action'].replace('-', '_')}")(options)

    def _from_redcap(self, options: dict[str, Any]) -> None:
        from partner.dictionary.redcap_import import RedcapError, convert

        source: Path = options["file"]
        try:
            text = source.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise CommandError(f"{source}: cannot read the file ({exc.strerror})") from None
        except UnicodeDecodeError:
            raise CommandError(f"{source}: not UTF-8 text; export the data dictionary from REDCap again") from None
        definitions = self._read(None)
        entity = options["entity"].upper()
        if entity not in {e.code for e in definitions.entities}:
            raise CommandError(f"--entity {options['entity']}: no such entity in dictionary v{definitions.version}")
        try:
            result = convert(
                text,
                module=options["module"],
                entity=entity,
                label=options["label"],
                form=options["form"],
                taken=set(definitions.fields),
                keep_identifiers=options["keep_identifiers"],
            )
        except RedcapError as exc:
            raise CommandError(f"{source}: {exc}") from None
        existing = {f.code for f in definitions.forms}
        for draft in result.drafts:
            if draft.module["code"] in existing:
                raise CommandError(
                    f"--module {options['module']}: the dictionary already has a form {draft.module['code']}"
                )
        out: Path = options["out"]
        single = out.suffix.lower() in (".yaml", ".yml")
        if single and len(result.drafts) > 1:
            forms = ", ".join(d.form for d in result.drafts)
            raise CommandError(
                f"{source}: {len(result.drafts)} forms have fields ({forms}): give --form NAME for one module, "
                "or --out FOLDER for one file per form"
            )
        for note in result.notes:
            self.stderr.write(f"{source.name}: {note.kind}: {' '.join(note.text.split())}")
        for draft in result.drafts:
            path = out if single else out / f"{draft.module['code']}.yaml"
            _write_atomically(path, _module_yaml(source, draft, [n for n in result.notes if n.form == draft.form]))
            counts = [
                (len(result.notes_of(draft.form, "left out")), "left out"),
                (len(result.notes_of(draft.form, "renamed")), "renamed"),
                (len(result.notes_of(draft.form, "identifier")), "identifiers"),
            ]
            listed = ", ".join(f"{n} {what}" for n, what in counts if n)
            self.stdout.write(
                f"{path}: module {draft.module['code']} with {len(draft.module['fields'])} fields"
                + (f"; {listed} (listed at the top of the file)" if listed else "")
            )

    # --- check and load ---------------------------------------------------------------------------

    def _read(self, path: Path | None) -> Any:
        try:
            return read_definitions(path)
        except DefinitionErrors as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"{len(exc.problems)} problem(s) in the definition files") from None

    def _check(self, options: dict[str, Any]) -> None:
        d = self._read(options["path"])
        fields = sum(len(f.fields) for f in d.forms)
        self.stdout.write(
            f"dictionary version {d.version} is valid: {len(d.entities)} entities, "
            f"{len(d.forms)} forms, {fields} fields, {len(d.iccc.rules)} ICCC-3 rules"
        )

    def _load(self, options: dict[str, Any]) -> None:
        self._read(options["path"])  # report every problem, with locations, before touching the database
        try:
            result = load_bundled(options["path"])
        except VersionConflict as exc:
            raise CommandError(str(exc)) from None
        v = result.version
        verb = "loaded" if result.created else "already loaded, unchanged:"
        self.stdout.write(
            f"dictionary version {v.number} {verb} ({v.entities.count()} entities, {v.forms.count()} forms)"
        )

    # --- classify ---------------------------------------------------------------------------------

    def _classifier(self, version: int | None) -> Classifier:
        try:
            return get_dictionary(version).classifier
        except (NoDictionary, DatabaseError):
            if version is not None:
                raise CommandError(
                    f"dictionary version {version} is not loaded: run `partner dictionary load`"
                ) from None
        from django.conf import settings

        d = self._read(None)
        return Classifier(d.iccc, d.entities, max_age=settings.PARTNER_MAX_AGE_YEARS)

    def _classify(self, options: dict[str, Any]) -> None:
        if options["csv"]:
            if options["morphology"] or options["topography"]:
                raise CommandError("give either --csv or --morphology/--topography, not both")
            if not options["out"]:
                raise CommandError("--csv needs --out FILE")
            return self._classify_csv(options["csv"], options["out"], self._classifier(options["version"]))
        if not (options["morphology"] and options["topography"]):
            raise CommandError("give --morphology and --topography (or --csv IN.csv --out OUT.csv)")
        classifier = self._classifier(options["version"])
        try:
            result = classifier.classify(options["morphology"], options["topography"], options["age_years"])
        except CodeError as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(json.dumps(asdict(result), ensure_ascii=False, indent=2))
            return
        lines = [
            ("ICD-O-3", f"{result.morphology} {result.topography}"),
            ("ICCC-3 group", f"{result.iccc_group or '-'} {result.iccc_group_name or 'not classified'}"),
            ("ICCC-3 extended", f"{result.iccc_extended or '-'} {result.iccc_extended_name or ''}".strip()),
            ("VRT entity", f"{result.entity} {result.entity_name}" if result.entity else "none"),
            ("very rare tumour", "yes" if result.vrt else "no"),
            ("EXPeRT scope", "yes" if result.expert_scope else "no"),
            ("reason", result.reason),
        ]
        for label, value in lines:
            self.stdout.write(f"{label:>17}: {value}")

    def _classify_csv(self, source: Path, out: Path, classifier: Classifier) -> None:
        try:
            raw = source.read_bytes()
        except OSError as exc:
            raise CommandError(f"{source}: cannot read ({exc.strerror})") from None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CommandError(f"{source}: not UTF-8 text (byte {exc.start}); save the file as UTF-8 CSV") from None
        sample = text[:4096]
        try:
            dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        reader = csv.DictReader(text.splitlines(), dialect=dialect)
        header = [h.strip().lower() for h in (reader.fieldnames or [])]
        missing = [c for c in CLASSIFY_IN[:2] if c not in header]
        if missing:
            raise CommandError(
                f"{source}: row 1 (header): missing column(s) {', '.join(missing)}; expected {', '.join(CLASSIFY_IN)}"
            )
        reader.fieldnames = header
        rows = list(reader)
        problems: list[str] = []
        out_rows = []
        for number, row in enumerate(
            tqdm(rows, desc="classifying", unit="row", disable=not sys.stderr.isatty()), start=2
        ):
            if None in row:
                problems.append(f"{source}: row {number}: more cells than columns")
                row.pop(None)  # type: ignore[call-overload]
            result_cells = {k: "" for k in CLASSIFY_OUT}
            field = "morphology"
            try:
                age_text = (row.get("age_years") or "").strip().replace(",", ".")
                field = "age_years"
                age = float(age_text) if age_text else None
                field = "morphology"
                c = classifier.classify(row.get("morphology") or "", row.get("topography") or "", age)
            except (CodeError, ValueError) as exc:
                message = (
                    str(exc)
                    if field != "age_years" or isinstance(exc, CodeError)
                    else f"{row.get('age_years')!r} is not a number of years"
                )
                problems.append(f"{source}: row {number}: {message}")
                result_cells["reason"] = f"error: {message}"
            else:
                result_cells.update(
                    iccc_group=c.iccc_group or "",
                    iccc_extended=c.iccc_extended or "",
                    entity=c.entity or "",
                    vrt="yes" if c.vrt else "no",
                    expert_scope="yes" if c.expert_scope else "no",
                    reason=c.reason,
                )
            out_rows.append({**row, **result_cells})
        columns = header + [c for c in CLASSIFY_OUT if c not in header]
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        writer.writerows(out_rows)
        _write_atomically(out, buffer.getvalue())
        vrt = sum(1 for r in out_rows if r["vrt"] == "yes")
        self.stdout.write(f"{len(out_rows)} rows classified into {out}: {vrt} very rare tumours")
        if problems:
            for p in problems[:50]:
                self.stderr.write(p)
            if len(problems) > 50:
                self.stderr.write(f"... and {len(problems) - 50} more")
            raise CommandError(f"{len(problems)} row(s) could not be classified; their reason column says why")

    # --- export -----------------------------------------------------------------------------------

    def _export(self, options: dict[str, Any]) -> None:
        try:
            d = get_dictionary(options["version"])
        except NoDictionary as exc:
            raise CommandError(str(exc)) from None
        out: Path = options["out"]
        if options["format"] == "redcap":
            _write_atomically(out, redcap.to_csv(d.forms, options["language"]))
            n = sum(len(f.fields) for f in d.forms) + 1
            self.stdout.write(
                f"REDCap data dictionary of version {d.number}: {n} fields in {len(d.forms)} instruments -> {out}"
            )
        else:
            _write_atomically(out, json.dumps({"version": d.number, **d.row.definition}, ensure_ascii=False, indent=2))
            self.stdout.write(f"dictionary version {d.number} as JSON -> {out}")
