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
