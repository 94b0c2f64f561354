"""partner report ENTITY --out FILE.pdf: the suppressed report of an entity over the whole registry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from partner.cases.frames import build_frames
from partner.cases.models import TumourCase
from partner.dictionary.loader import get_dictionary
from partner.reports.pdf import render_pdf
from partner.reports.report import build_report


class Command(BaseCommand):
    help = "Write the report of a tumour entity over every case of the registry as a PDF, small counts hidden."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("entity", help="the entity's code in the dictionary, e.g. ACC")
        parser.add_argument("--out", type=Path, help="the PDF to write (default: ENTITY-report.pdf)")
        parser.add_argument("--language", default="en", help="language of the report (en, it, fr, de, pl)")

    def handle(self, *args: Any, **options: Any) -> None:
        d = get_dictionary()
        entity = options["entity"].upper()
        if entity not in d.entity_by_code:
            known = ", ".join(sorted(d.entity_by_code))
            raise CommandError(f"{options['entity']}: no such entity in the dictionary (known: {known})")
        frames = build_frames(TumourCase.objects.all().for_analysis(), dictionary=d)
        report = build_report(
            frames, entity, d, threshold=settings.PARTNER_MIN_CELL_COUNT, suppressed=True, language=options["language"]
        )
        out: Path = options["out"] or Path(f"{entity}-report.pdf")
        out.write_bytes(render_pdf(report))
        self.stdout.write(f"{out}: {report.name}, {report.children_shown} children")
