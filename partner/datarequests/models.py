"""A researcher's request for row-level data: purpose, variables, cohort, and the coordinator's decision.

Researchers see aggregates only; a row-level extract leaves the registry only for a request the
European coordinator approved, only to the researcher who asked, and only with the variables and
cohort approved (see services.py). Every change of a request, downloads included, is in its history.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from partner.accounts.models import Role


class RequestStatus(models.TextChoices):
    SUBMITTED = "submitted", _("submitted")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")
    WITHDRAWN = "withdrawn", _("withdrawn")


def new_salt() -> str:
    """The key of a request's row ids: 256 random bits, never shown to anyone."""
    return secrets.token_hex(32)


class DataRequestQuerySet(models.QuerySet):
    def restrict(self, user: Any) -> DataRequestQuerySet:
        """The one place that decides who sees which request: the European coordinator (and an
        administrator) every request, a researcher their own, anyone else none."""
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        roles = {m.role for m in user.memberships.all()}
        if Role.EUROPEAN_COORDINATOR in roles:
            return self
        if Role.RESEARCHER in roles:
            return self.filter(requester=user)
        return self.none()


class DataRequest(models.Model):
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="data_requests", verbose_name=_("requester")
    )
    title = models.CharField(_("title"), max_length=200)
    purpose = models.TextField(_("purpose"), max_length=10000)
    variables = models.JSONField(_("variables"), default=list, help_text="dictionary fields as form.field")
    cohort = models.JSONField(_("cohort"), default=dict, help_text="the filters of partner.analysis.Cohort")
    dictionary_version = models.PositiveIntegerField(
        _("data dictionary version"), help_text="the version the variables were checked against"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.SUBMITTED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True, max_length=5000)
    salt = models.CharField(max_length=64, default=new_salt, editable=False)
    download_count = models.PositiveIntegerField(_("downloads"), default=0)
    last_downloaded_at = models.DateTimeField(_("last downloaded"), null=True, blank=True)
    created = models.DateTimeField(_("submitted"), auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    # The salt stays out of the history: one copy of the key is enough.
    history = HistoricalRecords(excluded_fields=["salt"])

    objects = DataRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("data request")
        ordering = ["-created", "-id"]
        constraints = [
            models.CheckConstraint(
                name="data_request_rejection_has_a_reason",
                condition=~models.Q(status=RequestStatus.REJECTED) | ~models.Q(decision_note=""),
            ),
            models.CheckConstraint(
                name="data_request_decision_has_a_decider",
                condition=~models.Q(status__in=[RequestStatus.APPROVED, RequestStatus.REJECTED])
                | models.Q(decided_by__isnull=False, decided_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"
