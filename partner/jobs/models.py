"""A job: one piece of long work a user started, as the worker runs it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Job(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", _("waiting for the worker")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=40)
    title = models.CharField(_("title"), max_length=300)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="jobs")
    #: What the kind's work needs to run again exactly as started (never a child's identity: a file's
    #: path under var/, not its content).
    params = models.JSONField(default=dict)
    language = models.CharField(max_length=10, default="en")
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.QUEUED)
    created = models.DateTimeField(auto_now_add=True, db_index=True)
    started = models.DateTimeField(null=True, blank=True)
    finished = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    #: The summary the page shows when the work is over (counts, the first problems, a message).
    result = models.JSONField(default=dict, blank=True)
    #: A file the work wrote (a PDF, a report), under var/jobs/, handed only to the job's owner.
    output = models.CharField(max_length=300, blank=True)
    output_name = models.CharField(max_length=200, blank=True)
    output_type = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("job")

    def __str__(self) -> str:
        return f"{self.title} ({self.state})"

    @property
    def folder(self) -> Path:
        return Path(settings.VAR_DIR) / "jobs" / str(self.id)

    @property
    def over(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)

    def stalled(self, heartbeat: float | None) -> bool:
        """Running, and its worker not heard of for PARTNER_JOB_STALLED_SECONDS: the worker stopped."""
        if self.state != self.State.RUNNING:
            return False
        limit = timezone.now() - timedelta(seconds=settings.PARTNER_JOB_STALLED_SECONDS)
        last = heartbeat if heartbeat is not None else (self.started or self.created).timestamp()
        return last < limit.timestamp()
