"""The data dictionary as immutable rows: a loaded version is never edited, only superseded."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class ImmutableError(Exception):
    pass


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise ImmutableError("dictionary rows are immutable: load a new version instead")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise ImmutableError("dictionary rows are immutable: load a new version instead")


class ImmutableModel(models.Model):
    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ImmutableError(f"{self._meta.verbose_name} rows are immutable: load a new version instead")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ImmutableError(f"{self._meta.verbose_name} rows are immutable")


def localised(labels: dict[str, str] | None, language: str | None = None) -> str:
    if not labels:
        return ""
    lang = (language or get_language() or "en")[:2]
    return labels.get(lang) or labels.get("en", "")


class DictionaryVersion(ImmutableModel):
    number = models.PositiveIntegerField(_("version"), unique=True)
    released = models.DateField(_("released"))
    title = models.JSONField(_("title"))
    description = models.TextField(_("description"))
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the definition files")
    definition = models.JSONField(help_text="The whole checked definition, as loaded")
    loaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        verbose_name = _("dictionary version")

    def __str__(self) -> str:
        return f"v{self.number}"

    @property
    def label(self) -> str:
        return localised(self.title)


class EntityDefinition(ImmutableModel):
    version = models.ForeignKey(DictionaryVersion, on_delete=models.PROTECT, related_name="entities")
    position = models.PositiveIntegerField()
    code = models.CharField(max_length=24)
    names = models.JSONField()
    description = models.JSONField(null=True)
    iccc_extended = models.CharField(max_length=3)
    orpha = models.PositiveIntegerField(null=True)
    incidence_vrt = models.BooleanField()
    expert_scope = models.BooleanField()
    panel = models.CharField(max_length=40)
    match = models.JSONField()

    class Meta:
        ordering = ["version", "position"]
        unique_together = [("version", "code")]
        verbose_name = _("VRT entity")
        verbose_name_plural = _("VRT entities")

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return localised(self.names)

    @property
    def short_description(self) -> str:
        return localised(self.description)


class FormDefinition(ImmutableModel):
    version = models.ForeignKey(DictionaryVersion, on_delete=models.PROTECT, related_name="forms")
    position = models.PositiveIntegerField()
    code = models.CharField(max_length=40)
    labels = models.JSONField()
    help = models.JSONField(null=True)
    repeating = models.BooleanField()
    entities = models.ManyToManyField(EntityDefinition, related_name="modules", blank=True)

    class Meta:
        ordering = ["version", "position"]
        unique_together = [("version", "code")]
        verbose_name = _("form")

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return localised(self.labels)

    @property
    def help_text(self) -> str:
        return localised(self.help)


class FieldDefinition(ImmutableModel):
    form = models.ForeignKey(FormDefinition, on_delete=models.PROTECT, related_name="fields")
    position = models.PositiveIntegerField()
    code = models.CharField(max_length=40)
    labels = models.JSONField()
    help = models.JSONField(null=True)
    section = models.JSONField(null=True)
    type = models.CharField(max_length=20)
    unit = models.CharField(max_length=20, blank=True)
    min_value = models.FloatField(null=True)
    max_value = models.FloatField(null=True)
    max_length = models.PositiveIntegerField(null=True)
    decimals = models.PositiveSmallIntegerField(null=True)
    code_system = models.CharField(max_length=20, blank=True)
    choices = models.JSONField(default=list)
    required = models.BooleanField()
    required_if = models.TextField(blank=True)
    show_if = models.TextField(blank=True)
    computed = models.CharField(max_length=40, blank=True)
    eu_cde = models.CharField(max_length=4, blank=True)
    fhir = models.CharField(max_length=200, blank=True)
    phenopackets = models.CharField(max_length=200, blank=True)
    redcap = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["form", "position"]
        unique_together = [("form", "code")]
        verbose_name = _("field")

    def __str__(self) -> str:
        return self.code

    @property
    def label(self) -> str:
        return localised(self.labels)

    @property
    def help_text(self) -> str:
        return localised(self.help)

    def choice_labels(self) -> list[tuple[str, str]]:
        return [(c["code"], localised(c["labels"])) for c in self.choices]
