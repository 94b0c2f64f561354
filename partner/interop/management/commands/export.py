"""partner export {csv,datapackage,fhir,phenopackets,redcap} [--case ID ...] --out DIR: the registry's cases."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from partner.interop.exporting import FORMATS, ExportError, export_cases


class Command(BaseCommand):
    help = (
        "Export the registry's cases (consent standing) into a folder: pooled CSV, a Frictionless data package, "
        "REDCap data dictionary and records, or one FHIR bundle or phenopacket per case. Every export is logged."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("format", choices=FORMATS)
        parser.add_argument(
            "--case", type=int, action="append", dest="cases", metavar="ID", help="only this case (repeat for more)"
        )
        parser.add_argument("--out", type=Path, required=True, help="the folder to write into (created if need be)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            written = export_cases(options["format"], options["out"], case_ids=options["cases"])
        except ExportError as exc:
            raise CommandError(str(exc)) from None
        for path in written:
            self.stdout.write(str(path))
        self.stdout.write(f"{options['format']}: {len(written)} files written to {options['out']}")
