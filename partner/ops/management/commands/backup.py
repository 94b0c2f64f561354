"""partner backup --out FILE.tar.gz: every table, history and logs included, and the uploaded files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from partner.ops.backup import BackupError, write_backup


class Command(BaseCommand):
    help = "Write a backup of the whole registry (rows and uploaded files) that partner restore reads back."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, help="the archive to write (default: partner-DATE.tar.gz)")

    def handle(self, *args: Any, **options: Any) -> None:
        out: Path = options["out"] or Path(f"partner-{timezone.now():%Y-%m-%dT%H%M}.tar.gz")
        try:
            summary = write_backup(out)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{summary.path}: {summary.rows} rows of {len(summary.models)} tables, {summary.files} files")
