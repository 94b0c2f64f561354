"""partner report ENTITY [--evidence] --out FILE.pdf: the suppressed report of an entity over the whole
registry, or the evidence pack of a guideline group."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from partner.dictionary.loader import get_dictionary
from partner.release import Release
from partner.reports.evidence import build_evidence_pack
from partner.reports.pdf import render_pdf
from partner.reports.population import population_frame
from partner.reports.report import build_report


class Command(BaseCommand):
    help = "Write the report of a tumour entity over every case of the registry as a PDF, small counts hidden."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("entity", help="the entity's code in the dictionary, e.g. ACC")
        parser.add_argument("--out", type=Path, help="the PDF to write (default: ENTITY-report.pdf)")
        parser.add_argument(
            "--evidence", action="store_true", help="the evidence pack: outcomes by stage and treatment, Cox model"
        )
        parser.add_argument("--language", default="en", help="language of the report (en, it, fr, de, pl)")

    def handle(self, *args: Any, **options: Any) -> None:
        d = get_dictionary()
        entity = options["entity"].upper()
        if entity not in d.entity_by_code:
            known = ", ".join(sorted(d.entity_by_code))
            raise CommandError(f"{options['entity']}: no such entity in the dictionary (known: {known})")
        language = options["language"]
        if language not in dict(settings.LANGUAGES):
            raise CommandError(f"{language}: not one of the languages {', '.join(dict(settings.LANGUAGES))}")
        release = Release.pooled()
        build = build_evidence_pack if options["evidence"] else build_report
        with translation.override(language):
            report = build(
                release.frames(entity=entity, dictionary=d),
                entity,
                d,
                release=release,
                population=population_frame(),
                language=language,
            )
            pdf = render_pdf(report)
        out: Path = options["out"] or Path(f"{entity}-{'evidence-pack' if options['evidence'] else 'report'}.pdf")
        out.write_bytes(pdf)
        self.stdout.write(f"{out}: {report.name}, {report.children_shown} children")
