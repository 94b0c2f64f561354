"""partner restore FILE.tar.gz: load a backup into a new, migrated, empty registry, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from partner.ops.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = "Restore a backup written by partner backup into a new, migrated, empty database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        archive: Path = options["archive"]
        if not archive.is_file():
            raise CommandError(f"{archive}: no such file")
        try:
            summary = restore_backup(archive)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"{archive}: {summary.rows} rows and {summary.files} files restored")
