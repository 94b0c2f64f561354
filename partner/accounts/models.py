"""Countries, national groups, centres and the roles that scope what each user may see."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from .countries import country_name, languages_of


class Country(models.Model):
    """A country; `name` is its English name, kept for files and searches, and never shown: a page
    shows `local_name`, the name in the page's language."""

    code = models.CharField(_("ISO 3166 code"), max_length=2, unique=True)
    name = models.CharField(_("name"), max_length=80)

    class Meta:
        ordering = ["name"]
        verbose_name = _("country")
        verbose_name_plural = _("countries")

    def __str__(self) -> str:
        return self.local_name

    @property
    def local_name(self) -> str:
        """The name in the active language: "Italia" on an Italian page, "Włochy" on a Polish one."""
        return country_name(self.code, self.name)


class NationalGroup(models.Model):
    """A national rare-tumour group (e.g. the Italian TREP group) that pools its centres' cases."""

    country = models.OneToOneField(Country, on_delete=models.PROTECT, related_name="national_group")
    acronym = models.CharField(_("acronym"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)

    class Meta:
        ordering = ["acronym"]
        verbose_name = _("national group")

    def __str__(self) -> str:
        return self.acronym


class Centre(models.Model):
    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=200)
    local_name = models.CharField(
        _("name in the local language"),
        max_length=200,
        blank=True,
        help_text=_("Shown instead of the English name on pages in a language of the centre's country."),
    )
    city = models.CharField(_("city"), max_length=100)
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="centres")

    class Meta:
        ordering = ["country__name", "name"]
        verbose_name = _("centre")

    def __str__(self) -> str:
        return f"{self.display_name}, {self.city}"

    @property
    def display_name(self) -> str:
        """The local name where the page is in a language of the centre's country, else the English name."""
        language = (translation.get_language() or "").split("-")[0]
        # The local name first: the country is read only for a centre that has one.
        if self.local_name and language != "en" and language in languages_of(self.country.code):
            return self.local_name
        return self.name


class Role(models.TextChoices):
    DATA_MANAGER = "data_manager", _("Centre data manager")
    CLINICIAN = "clinician", _("Clinician")
    NATIONAL_COORDINATOR = "national_coordinator", _("National coordinator")
    EUROPEAN_COORDINATOR = "european_coordinator", _("European coordinator")
    EXPERT = "expert", _("Tumour expert")
    RESEARCHER = "researcher", _("Researcher")


CENTRE_ROLES = {Role.DATA_MANAGER, Role.CLINICIAN}
COUNTRY_ROLES = {Role.NATIONAL_COORDINATOR}
REGISTRY_ROLES = {Role.EUROPEAN_COORDINATOR}


class Membership(models.Model):
    """A role held by a user, scoped to a centre, a country or the whole registry."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=30, choices=Role.choices)
    centre = models.ForeignKey(Centre, on_delete=models.PROTECT, null=True, blank=True)
    country = models.ForeignKey(Country, on_delete=models.PROTECT, null=True, blank=True)

    class Meta:
        verbose_name = _("membership")
        constraints = [
            models.CheckConstraint(
                name="membership_scope_matches_role",
                condition=(
                    models.Q(role__in=list(CENTRE_ROLES), centre__isnull=False, country__isnull=True)
                    | models.Q(role__in=list(COUNTRY_ROLES), centre__isnull=True, country__isnull=False)
                    | models.Q(
                        role__in=[r for r in Role if r not in CENTRE_ROLES | COUNTRY_ROLES],
                        centre__isnull=True,
                        country__isnull=True,
                    )
                ),
            )
        ]

    def __str__(self) -> str:
        scope = self.centre or self.country or _("all")
        return f"{self.user} — {self.get_role_display()} ({scope})"


class ApiToken(models.Model):
    """A personal API token: only its SHA-256 is stored, so it is shown once, when created."""

    PREFIX = "prt_"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=80)
    digest = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12, help_text="the first characters, to recognise the token")
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)
    revoked = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @staticmethod
    def digest_of(key: str) -> str:
        import hashlib

        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, user: object, name: str) -> tuple[ApiToken, str]:
        """Create a token; the returned key is never stored and cannot be shown again."""
        import secrets

        key = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, name=name, digest=cls.digest_of(key), hint=key[:10])
        return token, key
