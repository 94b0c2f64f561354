"""Population denominators for incidence: Eurostat's population by age and sex, as a coordinator loads it.

Each load is kept (who, when, which file, how many rows), and its counts replace those of an earlier
load for the same country, year, sex and age band: a corrected Eurostat release supersedes the old
figures, and the load that brought each figure stays known.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PopulationLoad(models.Model):
    """One file of population counts loaded into the registry."""

    source = models.CharField(_("source"), max_length=300, help_text=_("the file's name"))
    digest = models.CharField(_("SHA-256 of the file"), max_length=64)
    rows = models.PositiveIntegerField(_("rows"))
    replaced = models.PositiveIntegerField(_("rows replaced"), default=0)
    loaded_at = models.DateTimeField(_("loaded"), auto_now_add=True)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-loaded_at", "-id"]
        verbose_name = _("population load")

    def __str__(self) -> str:
        return f"{self.source} ({self.rows} rows)"


class PopulationCount(models.Model):
    """The population of a country on 1 January of a year, by sex (F, M or T for both) and age band."""

    class Sex(models.TextChoices):
        FEMALE = "F", _("female")
        MALE = "M", _("male")
        TOTAL = "T", _("both sexes")

    load = models.ForeignKey(PopulationLoad, on_delete=models.PROTECT, related_name="counts")
    country = models.CharField(_("country"), max_length=2)
    year = models.PositiveSmallIntegerField(_("year"))
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    age = models.PositiveSmallIntegerField(_("age"), help_text=_("the first year of age of the band"))
    age_width = models.PositiveSmallIntegerField(_("years in the band"))
    population = models.PositiveIntegerField(_("population"))

    class Meta:
        ordering = ["country", "year", "sex", "age"]
        verbose_name = _("population count")
        constraints = [
            models.UniqueConstraint(fields=["country", "year", "sex", "age", "age_width"], name="one_population_count")
        ]

    def __str__(self) -> str:
        return f"{self.country} {self.year} {self.sex} {self.age}+{self.age_width}: {self.population}"
