"""What a job's work reports while it runs: its stage, the rows done, and the file it wrote.

Progress is written to a small file beside the job's output, not to the database: the work holds its
own transaction open (an import is all or nothing), and on SQLite a second writer would wait for it
to end. The file is replaced whole each time (written, then renamed), so a reader never sees half of it.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from .models import Job

#: The least time between two writes of the progress file while rows are done.
WRITE_EVERY = 0.5
#: How often a running job's heartbeat is written when its progress does not move.
HEARTBEAT_EVERY = 5.0


def read_progress(job: Job) -> dict[str, Any]:
    """The last progress written: stage, done, total, at (a timestamp); empty before the work starts."""
    try:
        return json.loads((job.folder / "progress.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}


class JobContext:
    def __init__(self, job: Job):
        self.job = job
        self.folder = job.folder
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._state: dict[str, Any] = {"stage": "", "done": 0, "total": None, "at": time.time()}
        self._written = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._heart = threading.Thread(target=self._beat, name=f"job-{job.pk}-heartbeat", daemon=True)

    def __enter__(self) -> JobContext:
        self._write()
        self._heart.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._heart.join()
        self._write()

    def stage(self, text: str, total: int | None = None) -> None:
        """A new stage of the work, with the number of rows (or steps) it has when known."""
        with self._lock:
            self._state.update(stage=str(text), done=0, total=total)
        self._write()

    def advance(self, rows: int = 1) -> None:
        with self._lock:
            self._state["done"] += rows
        if time.monotonic() - self._written >= WRITE_EVERY:
            self._write()

    def save_output(self, content: bytes, filename: str, content_type: str) -> None:
        """The file the job hands to its owner (a PDF, a zip, a report)."""
        path = self.folder / "output"
        part = path.with_suffix(".part")
        part.write_bytes(content)
        os.replace(part, path)
        self.job.output = str(path)
        self.job.output_name = filename
        self.job.output_type = content_type

    def _beat(self) -> None:
        while not self._stop.wait(HEARTBEAT_EVERY):
            self._write()

    def _write(self) -> None:
        with self._lock:
            self._state["at"] = time.time()
            text = json.dumps(self._state)
            self._written = time.monotonic()
        path: Path = self.folder / "progress.json"
        part = self.folder / f"progress.{threading.get_ident()}.part"
        part.write_text(text, encoding="utf-8")
        os.replace(part, path)
