"""What a push leaves behind: the hub's receipts, and at the node what each case was when last received."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from partner.cases.models import TumourCase


class PushReceipt(models.Model):
    """At the hub: one accepted push, found again by its digest when a node retries."""

    digest = models.CharField(max_length=64)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    received = models.DateTimeField(auto_now_add=True)
    answer = models.JSONField(help_text="the answer given, given again to a retry")

    class Meta:
        verbose_name = _("push receipt")
        constraints = [models.UniqueConstraint(fields=["digest", "user"], name="one_receipt_per_push")]

    def __str__(self) -> str:
        return f"receipt {self.pk} ({self.digest[:12]})"


class PushedCase(models.Model):
    """At the node: the content of a case as the hub last received it; a case whose content changes is sent again.

    Once the case's consent is withdrawn, the withdrawal is sent with the next push, until a receipt takes it.
    """

    case = models.ForeignKey(TumourCase, on_delete=models.CASCADE, related_name="+")
    hub = models.URLField(max_length=300)
    content_hash = models.CharField(max_length=64)
    receipt = models.PositiveBigIntegerField(help_text="the hub's receipt number")
    pushed = models.DateTimeField(auto_now=True)
    withdrawal_receipt = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="the hub's receipt that took the withdrawal of consent; empty until then"
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["case", "hub"], name="one_push_state_per_case_and_hub")]

    def __str__(self) -> str:
        return f"case {self.case_id} at {self.hub}"
