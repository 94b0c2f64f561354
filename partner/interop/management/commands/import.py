"""partner import cases FILE: a national group's cases into the registry; partner import mapping: their mappings."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from tqdm import tqdm

from partner.accounts.models import NationalGroup
from partner.dictionary.loader import get_dictionary
from partner.interop.export_tables import ExportTable, read_cases
from partner.interop.importing import import_cases
from partner.interop.mapping import Mapping, MappingError
from partner.interop.models import ImportMapping
from partner.interop.report import write_reports
from partner.interop.tables import TableError

SHOWN = 20


class Command(BaseCommand):
    help = "Import cases from a CSV or Excel file (all or nothing), and keep the national groups' mappings."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        cases = sub.add_parser(
            "cases",
            help="import the cases of a .csv, .tsv or .xlsx file, or of the registry's own export "
            "(its folder, its cases.csv with the form files beside it, or REDCap's records.csv)",
        )
        cases.add_argument("file", type=Path)
        cases.add_argument("--mapping", help="a saved mapping (GROUP/NAME) or a mapping's YAML file")
        cases.add_argument("--centre", default="", help="centre code for rows without a centre column")
        cases.add_argument(
            "--status",
            choices=["draft", "submitted"],
            default="submitted",
            help="status of new cases (default: submitted)",
        )
        cases.add_argument("--dry-run", action="store_true", help="check everything, write nothing, report")
        cases.add_argument("--report", type=Path, help="write the report to this .csv and beside it as .html")
        cases.add_argument(
            "--sheet", help="the workbook's sheet (needed when more than one sheet holds rows; an export's: cases)"
        )
        cases.add_argument("--encoding", default="utf-8", help="the CSV file's encoding (default: utf-8)")
        fhir = sub.add_parser(
            "fhir", help="register the case of an HL7 FHIR R4 (mCODE) bundle, e.g. from a hospital system"
        )
        fhir.add_argument("file", type=Path, help="the bundle, as JSON")
        fhir.add_argument("--centre", required=True, help="code of the centre the case belongs to")
        fhir.add_argument("--status", choices=["draft", "submitted"], default="draft", help="status of the case")
        fhir.add_argument(
            "--report",
            type=Path,
            help="write the report (each value taken and the element it came from, what was left out and why, "
            "the quality findings, what refused the import) to this file: JSON for a .json file, else CSV",
        )
        mapping = sub.add_parser("mapping", help="save or list the national groups' mappings")
        mapping.add_argument("action", choices=["save", "list"])
        mapping.add_argument("file", type=Path, nargs="?", help="the mapping's YAML file (save)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["what"] == "mapping":
            return self._mapping(options)
        if options["what"] == "fhir":
            return self._fhir(options)
        mapping = self._load_mapping(options["mapping"]) if options["mapping"] else None
        try:
            table = read_cases(
                options["file"], get_dictionary(), sheet=options["sheet"], encoding=options["encoding"], mapping=mapping
            )
        except TableError as exc:
            raise CommandError(f"{exc}; nothing imported") from None
        if isinstance(table, ExportTable) and len(table.files) > 1:
            self.stdout.write("read together: " + ", ".join(table.files))
        bar = tqdm(total=len(table.rows), desc="import", unit="row", disable=not sys.stderr.isatty())
        try:
            result = import_cases(
                table,
                mapping=mapping,
                centre=options["centre"],
                status=options["status"],
                dry_run=options["dry_run"],
                progress=lambda _row: bar.update(1),
            )
        finally:
            bar.close()
        if options["report"]:
            written = write_reports(result, options["report"])
            self.stdout.write("report: " + ", ".join(str(p) for p in written))
        counts = f"{result.created} new, {result.updated} updated, {result.unchanged} unchanged"
        findings = len(result.problems) - len(result.errors)
        for p in result.errors[:SHOWN]:
            self.stderr.write(
                f"{p.file or result.source}, row {p.row}, {p.column}: {p.message}"
                + (f" ({p.value})" if p.value else "")
            )
        if len(result.errors) > SHOWN:
            self.stderr.write(f"... and {len(result.errors) - SHOWN} more errors (--report lists them all)")
        if result.errors:
            raise CommandError(f"{result.source}: nothing imported, {len(result.errors)} errors in {result.rows} rows")
        verb = "would import" if result.dry_run else "imported"
        self.stdout.write(
            f"{result.source}: {verb} {result.rows} rows ({counts}); {findings} quality findings to look at"
        )
        return None

    def _fhir(self, options: dict[str, Any]) -> None:
        import json

        from partner.accounts.models import Centre
        from partner.interop.fhir_import import import_bundle_reported
        from partner.interop.fhir_report import refusal, summary

        source: Path = options["file"]
        try:
            bundle = json.loads(source.read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"{source}: cannot read the file ({exc.strerror})") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(f"{source}: not a JSON file ({exc})") from None
        centre = Centre.objects.filter(code=options["centre"].upper()).first()
        if centre is None:
            raise CommandError(f"--centre {options['centre']}: no such centre")
        done = import_bundle_reported(bundle, centre=centre, status=options["status"], source=source.name)
        if options["report"]:
            done.report.write(options["report"])
        for line in summary(done.report):
            self.stdout.write(line)
        if options["report"]:
            self.stdout.write(f"report: {options['report']}")
        if done.case is None:
            raise CommandError(f"{source}: nothing imported: {refusal(done.report)}")
        self.stdout.write(f"{source.name}: case {done.case.pk} registered at {centre.code} ({done.case.external_id})")

    def _load_mapping(self, given: str) -> Mapping:
        path = Path(given)
        try:
            if path.suffix.lower() in (".yaml", ".yml") or path.exists():
                return Mapping.from_file(path)
        except MappingError as exc:
            raise CommandError(str(exc)) from None
        group, _slash, name = given.partition("/")
        saved = ImportMapping.objects.filter(group__acronym__iexact=group, name=name).first()
        if saved is None:
            known = ", ".join(str(m) for m in ImportMapping.objects.select_related("group")) or "none"
            raise CommandError(f"--mapping {given}: no such file, nor saved mapping GROUP/NAME (saved: {known})")
        return Mapping.from_data(saved.definition, str(saved))

    @transaction.atomic
    def _mapping(self, options: dict[str, Any]) -> None:
        if options["action"] == "list":
            for m in ImportMapping.objects.select_related("group").order_by("group__acronym", "name"):
                self.stdout.write(
                    f"{m}  ({len(m.definition.get('columns', {}))} columns, updated {m.updated:%Y-%m-%d})"
                )
            return
        if options["file"] is None:
            raise CommandError("partner import mapping save FILE.yaml")
        try:
            mapping = Mapping.from_file(options["file"])
        except MappingError as exc:
            raise CommandError(str(exc)) from None
        if not mapping.group or not mapping.name:
            raise CommandError(f"{options['file']}: a saved mapping needs its group (acronym) and a name")
        group = NationalGroup.objects.filter(acronym__iexact=mapping.group).first()
        if group is None:
            known = ", ".join(NationalGroup.objects.values_list("acronym", flat=True)) or "none"
            raise CommandError(f"{options['file']}: no national group {mapping.group!r} (known: {known})")
        saved, created = ImportMapping.objects.update_or_create(
            group=group, name=mapping.name, defaults={"definition": mapping.as_data()}
        )
        self.stdout.write(f"mapping {saved} {'saved' if created else 'updated'}")
