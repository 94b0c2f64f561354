"""partner clearimports: remove the web import's uploads and reports past their hour, and the files of
long work a day after it ended (run every ten minutes by deploy/partner-sweep.timer)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from partner.interop.views import KEEP_SECONDS, sweep
from partner.jobs.services import sweep_outputs


class Command(BaseCommand):
    help = (
        "Remove the files the web import keeps (uploads checked but never imported, which hold names, and "
        f"reports) once {KEEP_SECONDS // 60} minutes have passed since they were last written. The web pages "
        "sweep them too; this covers files whose web process ended before their time was up. Also removes "
        "the files long work wrote (PDFs, extracts) a day after the work ended."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        removed = sweep()
        self.stdout.write(f"{removed} import files removed")
        self.stdout.write(f"{sweep_outputs()} files of long work removed")
