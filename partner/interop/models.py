"""Column and value mappings of a national group's files, saved once and used at every import."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from partner.accounts.models import NationalGroup


class ImportMapping(models.Model):
    """How a group's export names its columns and writes its values (see partner.interop.mapping)."""

    group = models.ForeignKey(NationalGroup, on_delete=models.PROTECT, related_name="import_mappings")
    name = models.SlugField(_("name"), max_length=60)
    definition = models.JSONField(_("definition"), help_text="columns, values and date format, as in the YAML file")
    updated = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("import mapping")
        constraints = [models.UniqueConstraint(fields=["group", "name"], name="one_mapping_name_per_group")]

    def __str__(self) -> str:
        return f"{self.group.acronym}/{self.name}"


from .models_hub import PushedCase, PushReceipt  # noqa: E402  (the node and hub side of a push)

__all__ = ["ExportLog", "ImportMapping", "PushReceipt", "PushedCase"]


class ExportLogQuerySet(models.QuerySet):
    def update(self, **kwargs: object) -> int:
        raise PermissionError("the export log is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("the export log is append-only")


class ExportLog(models.Model):
    """Every export of cases: who (empty: the registry itself), when, what and where. Rows are only ever added."""

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        DATAPACKAGE = "datapackage", _("Frictionless data package")
        FHIR = "fhir", "FHIR"
        PHENOPACKETS = "phenopackets", "Phenopackets"
        REDCAP = "redcap", "REDCap"

    when = models.DateTimeField(auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        "auth.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="exports",
        help_text="empty when the registry exported (the command line)",
    )
    format = models.CharField(_("format"), max_length=20, choices=Format.choices)
    case_count = models.PositiveIntegerField(_("cases"))
    case_ids = models.JSONField(_("case ids"), default=list)
    destination = models.CharField(_("destination"), max_length=500, help_text="the output folder, or 'download'")

    objects = ExportLogQuerySet.as_manager()

    class Meta:
        ordering = ["-when", "-id"]
        verbose_name = _("export")

    def __str__(self) -> str:
        who = self.user or "registry"
        return f"{self.when:%Y-%m-%d %H:%M} {who} exported {self.case_count} cases as {self.format}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise PermissionError("the export log is append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise PermissionError("the export log is append-only")
