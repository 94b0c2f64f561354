"""Pseudonymous patients, their tumour cases and the form records entered for each case."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from partner.accounts.models import Centre, Country
from partner.dictionary.models import DictionaryVersion, EntityDefinition, FormDefinition

from .scoping import CaseQuerySet, PatientQuerySet


class Sex(models.TextChoices):
    FEMALE = "female", _("female")
    MALE = "male", _("male")
    OTHER = "other", _("other")
    UNKNOWN = "unknown", _("unknown")


class Patient(models.Model):
    """A child, known to the registry only by a keyed pseudonym: names are never stored."""

    pseudonym = models.CharField(_("pseudonym"), max_length=64, unique=True)
    sex = models.CharField(_("sex"), max_length=10, choices=Sex.choices)
    date_of_birth = models.DateField(_("date of birth"))
    country = models.ForeignKey(Country, on_delete=models.PROTECT, verbose_name=_("country"))
    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, verbose_name=_("registering centre"))
    registry_identity = models.PositiveBigIntegerField(
        _("registry identity"),
        null=True,
        blank=True,
        db_index=True,
        help_text="the child this patient is, when linked to other pseudonyms (the smallest linked patient id)",
    )
    created = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = PatientQuerySet.as_manager()

    class Meta:
        verbose_name = _("patient")

    def __str__(self) -> str:
        return self.pseudonym[:12]

    @property
    def child(self) -> int:
        """The registry's one identity for this child: analyses count children by it."""
        return self.registry_identity or self.pk


class Status(models.TextChoices):
    DRAFT = "draft", _("draft")
    SUBMITTED = "submitted", _("submitted")
    VALIDATED = "validated", _("validated")
    LOCKED = "locked", _("locked")


class TumourCase(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="cases")
    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, related_name="cases")
    dictionary_version = models.ForeignKey(DictionaryVersion, on_delete=models.PROTECT)
    entity = models.ForeignKey(
        EntityDefinition, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("VRT entity")
    )
    morphology = models.CharField(_("ICD-O-3 morphology"), max_length=6)
    topography = models.CharField(_("ICD-O-3 topography"), max_length=5)
    iccc_group = models.CharField(_("ICCC-3 group"), max_length=5, blank=True)
    iccc_extended = models.CharField(_("ICCC-3 extended group"), max_length=3, blank=True)
    diagnosis_date = models.DateField(_("date of diagnosis"), null=True, help_text="empty only once erased")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    external_id = models.CharField(_("identifier at the source"), max_length=64, blank=True)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("tumour case")
        ordering = ["-diagnosis_date", "id"]
        indexes = [models.Index(fields=["centre", "status"]), models.Index(fields=["entity"])]
        constraints = [
            # An import finds the case again by its identifier at the source: one case per identifier and centre.
            models.UniqueConstraint(
                fields=["centre", "external_id"],
                condition=~models.Q(external_id=""),
                name="one_case_per_source_identifier",
            )
        ]

    def __str__(self) -> str:
        diagnosed = f"{self.diagnosis_date:%Y-%m}" if self.diagnosis_date else "—"
        return f"{self.patient} · {self.morphology} {self.topography} · {diagnosed}"

    @property
    def country(self) -> Country:
        return self.centre.country


class FormRecord(models.Model):
    """The values of one form (or one instance of a repeating form) of a case.

    `values` holds field code -> value, checked against `form`, the immutable definition of the
    dictionary version the record was entered under; `version` counts saves so a stale edit is
    detected instead of silently overwriting a newer one.
    """

    case = models.ForeignKey(TumourCase, on_delete=models.CASCADE, related_name="records")
    form = models.ForeignKey(FormDefinition, on_delete=models.PROTECT)
    number = models.PositiveIntegerField(default=1, help_text="1, 2, ... for the lines or events of a repeating form")
    values = models.JSONField(default=dict)
    version = models.PositiveIntegerField(default=1)
    updated = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("form record")
        constraints = [models.UniqueConstraint(fields=["case", "form", "number"], name="one_record_per_form_number")]
        ordering = ["case", "form__position", "number"]

    def __str__(self) -> str:
        return f"{self.form.code} #{self.number}"


class AccessLogQuerySet(models.QuerySet):
    def update(self, **kwargs: object) -> int:
        raise PermissionError("the access log is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("the access log is append-only")


class AccessLog(models.Model):
    """Every read of a case by a person or a token; rows are only ever added."""

    class Channel(models.TextChoices):
        WEB = "web", _("web")
        API = "api", _("API")

    when = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="case_reads")
    case = models.ForeignKey(TumourCase, on_delete=models.PROTECT, related_name="reads")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    what = models.CharField(max_length=40, help_text="the page or endpoint read")
    address = models.GenericIPAddressField(
        null=True, blank=True, help_text="the client's address, from the trusted proxy's header when behind one"
    )

    objects = AccessLogQuerySet.as_manager()

    class Meta:
        ordering = ["-when", "-id"]
        verbose_name = _("case read")

    def __str__(self) -> str:
        return f"{self.when:%Y-%m-%d %H:%M} {self.user} read case {self.case_id} ({self.what}, {self.channel})"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise PermissionError("the access log is append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("the access log is append-only")


class ConsentWithdrawal(models.Model):
    """The withdrawal of consent for a case: from then on it leaves every export and analysis.

    When the consent scope requires it the clinical records are erased with their history; this
    row records what was erased, by whom and when. Rows are only ever added.
    """

    case = models.OneToOneField(TumourCase, on_delete=models.PROTECT, related_name="withdrawal")
    withdrawn_on = models.DateField(_("date of withdrawal"))
    erased = models.BooleanField(_("clinical data erased"))
    erased_records = models.JSONField(default=list, help_text="the records erased, as 'form #n'")
    erased_versions = models.PositiveIntegerField(default=0, help_text="historical versions erased with them")
    reason = models.TextField(
        _("reason"), blank=True, help_text="why the data were erased, as recorded by the person who erased them"
    )
    recorded_by = models.ForeignKey("auth.User", on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("consent withdrawal")

    def __str__(self) -> str:
        return f"case {self.case_id}: consent withdrawn on {self.withdrawn_on}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise PermissionError("a recorded withdrawal is not changed")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("a recorded withdrawal is not deleted")
