"""Linkage encodings of patients and the candidate pairs the European coordinator reviews.

A child known under two pseudonyms (two centres, often two countries) is found by comparing
Bloom-filter encodings of the identifying data, never the data. A pair above the threshold waits
for a person's decision; "same child" puts both patients under one registry identity
(`Patient.registry_identity`), which analyses count once. Nothing is merged: both centres keep
their records, and a decision can be changed, which re-derives the identities.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from partner.cases.models import Patient

from .matching import LIKELY_THRESHOLD


class LinkageKey(models.Model):
    """The Bloom-filter encoding of one patient's identifying data (base64), under one schema version."""

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, related_name="linkage")
    schema_version = models.CharField(max_length=20)
    encoding = models.TextField()
    created = models.DateTimeField(auto_now_add=True)
    compared = models.DateTimeField(null=True, blank=True, help_text="when `link run` last compared it")

    class Meta:
        verbose_name = _("linkage encoding")
        indexes = [models.Index(fields=["schema_version", "compared"])]

    def __str__(self) -> str:
        return f"encoding of {self.patient}"


class Decision(models.TextChoices):
    PENDING = "", _("not reviewed")
    SAME = "same", _("same child")
    DIFFERENT = "different", _("different children")
    UNDECIDED = "undecided", _("undecided")


class CandidatePair(models.Model):
    """Two patients whose encodings are similar enough for a person to look at; `left` has the smaller id."""

    left = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    similarity = models.FloatField(_("similarity"))
    schema_version = models.CharField(max_length=20)
    found = models.DateTimeField(auto_now_add=True)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, blank=True, default="")
    reason = models.TextField(_("reason"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    decided_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("candidate pair")
        ordering = ["-similarity", "id"]
        constraints = [
            models.UniqueConstraint(fields=["left", "right"], name="one_pair_per_two_patients"),
            models.CheckConstraint(condition=models.Q(left__lt=models.F("right")), name="pair_left_before_right"),
        ]

    def __str__(self) -> str:
        return f"{self.left} ~ {self.right} ({self.similarity:.3f})"

    @property
    def likely(self) -> bool:
        """Very probably the same child (still for a person to decide)."""
        return self.similarity >= LIKELY_THRESHOLD
