"""What the public website publishes besides the registry's own data: the European Standard Clinical
Practice (ESCP) guidelines, the national groups with their contacts, and news. Coordinators manage
them in the web interface; every change is in the history.

A text is written in one language (`language`), which the page declares to browsers and screen
readers; a visitor sees the texts of every language, their own first.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from partner.accounts.models import Country

LANGUAGES = settings.LANGUAGES


class Guideline(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        CONSULTATION = "consultation", _("in public consultation")
        PUBLISHED = "published", _("published")

    entity = models.CharField(_("tumour entity"), max_length=24, help_text=_("the entity's code in the dictionary"))
    title = models.CharField(_("title"), max_length=300)
    language = models.CharField(_("language"), max_length=5, choices=LANGUAGES, default="en")
    version = models.CharField(_("version"), max_length=20, help_text=_("e.g. 1.0, 2.1"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.DRAFT)
    date = models.DateField(_("date"), help_text=_("of this version"))
    summary = models.TextField(_("summary"), blank=True, max_length=3000)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["entity", "-date", "-id"]
        verbose_name = _("guideline")
        constraints = [
            models.UniqueConstraint(fields=["entity", "title", "version", "language"], name="one_guideline_version")
        ]

    def __str__(self) -> str:
        return f"{self.title} {self.version}"


def guideline_path(instance: GuidelineFile, filename: str) -> str:
    return f"guidelines/{instance.guideline_id}/{instance.sha256}.pdf"


class GuidelineFile(models.Model):
    """A PDF of a guideline: the document itself, an annex, a summary for families."""

    guideline = models.ForeignKey(Guideline, on_delete=models.CASCADE, related_name="files")
    label = models.CharField(
        _("what it is"), max_length=120, help_text=_("e.g. full text, annex, summary for families")
    )
    file = models.FileField(upload_to=guideline_path, max_length=200)
    name = models.CharField(max_length=200)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("guideline file")

    def __str__(self) -> str:
        return self.name


class NationalGroup(models.Model):
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="groups", verbose_name=_("country"))
    name = models.CharField(_("name"), max_length=200)
    language = models.CharField(_("language"), max_length=5, choices=LANGUAGES, default="en")
    description = models.TextField(_("description"), blank=True, max_length=2000)
    website = models.URLField(_("website"), blank=True)
    email = models.EmailField(_("contact e-mail"), blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["country__name", "name"]
        verbose_name = _("national group")

    def __str__(self) -> str:
        return self.name


class NewsItem(models.Model):
    title = models.CharField(_("title"), max_length=200)
    language = models.CharField(_("language"), max_length=5, choices=LANGUAGES, default="en")
    body = models.TextField(_("text"), max_length=10000, help_text=_("Plain text; a blank line starts a paragraph."))
    published = models.DateField(_("publication date"))
    visible = models.BooleanField(_("published on the website"), default=False)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["-published", "-id"]
        verbose_name = _("news item")

    def __str__(self) -> str:
        return self.title
