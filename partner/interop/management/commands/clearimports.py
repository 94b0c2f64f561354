"""partner clearimports: remove the web import's uploads and reports past their hour (run nightly)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from partner.interop.views import KEEP_SECONDS, sweep


class Command(BaseCommand):
    help = (
        "Remove the files the web import keeps (uploads checked but never imported, which hold names, and "
        f"reports) once {KEEP_SECONDS // 60} minutes have passed since they were last written. The web pages "
        "sweep them too; this covers files whose web process ended before their time was up."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        removed = sweep()
        self.stdout.write(f"{removed} import files removed")
