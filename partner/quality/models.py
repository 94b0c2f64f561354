"""Findings of the quality rules, their confirmations, and the clarification queries of coordinators."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from partner.cases.models import TumourCase

from .rules.base import SEVERITIES


class FindingStatus(models.TextChoices):
    OPEN = "open", _("open")
    CONFIRMED = "confirmed", _("confirmed")  # the value is right: never raised again for it
    RESOLVED = "resolved", _("resolved")  # the value was corrected, or the rule no longer fails


def values_key(values: str) -> str:
    return hashlib.sha256(values.encode()).hexdigest()


class Finding(models.Model):
    """One rule failing on one set of values of a case (or of one row of a repeating form)."""

    case = models.ForeignKey(TumourCase, on_delete=models.CASCADE, related_name="findings")
    rule = models.CharField(_("rule"), max_length=80)
    severity = models.CharField(_("severity"), max_length=10, choices=list(SEVERITIES.items()))
    field = models.CharField(_("field"), max_length=120, help_text="form.field where the finding shows")
    # Not "instance": the history model reserves that name for the object a history row describes.
    row = models.PositiveIntegerField(_("row"), default=0, help_text="row of a repeating form; 0 otherwise")
    values = models.TextField(_("values"))
    values_key = models.CharField(max_length=64, editable=False)
    status = models.CharField(_("status"), max_length=10, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    found = models.DateTimeField(_("found"), auto_now_add=True)
    resolved = models.DateTimeField(_("resolved"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("finding")
        ordering = ["case_id", "field", "row", "rule"]
        constraints = [
            models.UniqueConstraint(fields=["case", "rule", "row", "values_key"], name="one_finding_per_values"),
        ]
        indexes = [models.Index(fields=["status", "rule"]), models.Index(fields=["case", "status"])]

    def __str__(self) -> str:
        return f"{self.rule} on case {self.case_id} ({self.values})"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.values_key = values_key(self.values)
        super().save(*args, **kwargs)


class QueryStatus(models.TextChoices):
    OPEN = "open", _("waiting for the centre")
    ANSWERED = "answered", _("answered, waiting for the coordinator")
    CLOSED = "closed", _("closed")


class Query(models.Model):
    """A coordinator's question on one field of a case: the centre answers and corrects, the coordinator closes."""

    case = models.ForeignKey(TumourCase, on_delete=models.CASCADE, related_name="queries")
    field = models.CharField(_("field"), max_length=120, help_text="form.field the question is about")
    row = models.PositiveIntegerField(_("row"), default=0, help_text="row of a repeating form; 0 otherwise")
    finding = models.ForeignKey(Finding, null=True, blank=True, on_delete=models.SET_NULL, related_name="queries")
    question = models.TextField(_("question"))
    status = models.CharField(_("status"), max_length=10, choices=QueryStatus.choices, default=QueryStatus.OPEN)
    due = models.DateField(_("due date"))
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    raised_at = models.DateTimeField(_("raised"), auto_now_add=True)
    answered_at = models.DateTimeField(_("first answered"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    last_reminder = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("clarification query")
        verbose_name_plural = _("clarification queries")
        ordering = ["due", "id"]
        indexes = [models.Index(fields=["status", "due"])]

    def __str__(self) -> str:
        return f"query {self.pk} on case {self.case_id}, {self.field}"


class QueryMessage(models.Model):
    """One message in a query's thread: the question, the centre's answers, the coordinator's replies."""

    query = models.ForeignKey(Query, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("message"))
    written = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["written", "id"]

    def __str__(self) -> str:
        return f"message {self.pk} on query {self.query_id}"


class DashboardSnapshot(models.Model):
    """The quality dashboard's figures for one reader, grouping and language, computed by the worker
    (partner.quality.snapshots): the page reads them instead of computing them while the reader waits."""

    key = models.CharField(max_length=100, unique=True)
    computed = models.DateTimeField()
    #: Set when a case, finding or query changes after `computed`: the page then asks for new figures.
    stale = models.BooleanField(default=False)
    #: When new figures were last asked for, so that one reader's reloads queue them once.
    asked = models.DateTimeField(null=True, blank=True)
    data = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("quality dashboard snapshot")

    def __str__(self) -> str:
        return f"{self.key} at {self.computed:%Y-%m-%d %H:%M}"
