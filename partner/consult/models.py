"""Expert consultation: a clinician asks the panel of the tumour's entity group about one child.

A request (`Consultation`) carries the clinical question, its urgency, a pseudonymised summary of the
case frozen when it was submitted, and attachments. A coordinator assigns at least three experts of
the panel from at least two countries (`Assignment`); they discuss in a thread (`Message`), draft one
recommendation (`Recommendation`) and each agree or dissent. Once agreed it is sent as a PDF letter,
stored with the case. At follow-up the centre records whether it was followed and the outcome
(`Adherence`). Every change is in the history; every read by a person is in the case's access log.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from partner.accounts.models import Country
from partner.cases.models import TumourCase

USER = settings.AUTH_USER_MODEL


class Panel(models.TextChoices):
    """The expert panels named by the dictionary's entities (`panel`)."""

    ENDOCRINE = "endocrine", _("Endocrine tumours")
    GASTROINTESTINAL = "gastrointestinal", _("Gastrointestinal tumours")
    GENITOURINARY_BREAST = "genitourinary_breast", _("Genitourinary and breast tumours")
    HEAD_NECK = "head_neck", _("Head and neck tumours")
    SARCOMA_LIKE = "sarcoma_like", _("Sarcoma-like tumours")
    SKIN_MELANOMA = "skin_melanoma", _("Skin tumours and melanoma")
    THORACIC = "thoracic", _("Thoracic tumours")


class PanelMember(models.Model):
    """An expert who answers consultations for a panel, and the country they answer from."""

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="panels")
    panel = models.CharField(_("panel"), max_length=40, choices=Panel.choices)
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+", verbose_name=_("country"))
    active = models.BooleanField(_("active"), default=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("panel member")
        constraints = [models.UniqueConstraint(fields=["user", "panel"], name="one_seat_per_panel")]

    def __str__(self) -> str:
        return f"{self.user} ({self.country.code}) on {self.get_panel_display()}"


class Urgency(models.TextChoices):
    ROUTINE = "routine", _("routine: within 10 days")
    URGENT = "urgent", _("urgent: within 3 days")


#: Days from submission to the recommendation, by urgency.
DUE_DAYS = {Urgency.ROUTINE: 10, Urgency.URGENT: 3}


class ConsultationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("submitted")
    ASSIGNED = "assigned", _("with the panel")
    SENT = "sent", _("recommendation sent")
    WITHDRAWN = "withdrawn", _("withdrawn")


class Consultation(models.Model):
    case = models.ForeignKey(TumourCase, on_delete=models.PROTECT, related_name="consultations")
    panel = models.CharField(_("panel"), max_length=40, choices=Panel.choices)
    question = models.TextField(_("clinical question"), max_length=5000)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    status = models.CharField(
        _("status"), max_length=10, choices=ConsultationStatus.choices, default=ConsultationStatus.SUBMITTED
    )
    summary = models.JSONField(_("case summary"), help_text="the pseudonymised summary the experts read")
    requested_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="consultations_requested")
    submitted_at = models.DateTimeField(_("submitted"), db_index=True)
    due = models.DateTimeField(_("due"))
    first_response_at = models.DateTimeField(_("first expert response"), null=True, blank=True)
    sent_at = models.DateTimeField(_("recommendation sent"), null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    language = models.CharField(
        _("language of the letter"),
        max_length=8,
        choices=settings.LANGUAGES,
        default="en",
        help_text="the language the requester reads the panel's letter in",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("consultation")

    def __str__(self) -> str:
        return f"consultation {self.pk} on case {self.case_id}"


def attachment_path(instance: Attachment, filename: str) -> str:
    """Stored under a name of the registry's own: the uploaded name is kept only as a label."""
    return f"consultations/{instance.consultation_id}/{instance.sha256}.{instance.extension}"


class Attachment(models.Model):
    class Kind(models.TextChoices):
        PATHOLOGY = "pathology", _("pathology report or slide image")
        RADIOLOGY = "radiology", _("radiology report or image")
        OTHER = "other", _("other report")

    consultation = models.ForeignKey(Consultation, on_delete=models.PROTECT, related_name="attachments")
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    file = models.FileField(upload_to=attachment_path, max_length=200)
    name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=40, help_text="the type read from the file's content")
    extension = models.CharField(max_length=5)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("attachment")

    def __str__(self) -> str:
        return self.name


class Assignment(models.Model):
    class Vote(models.TextChoices):
        AGREE = "agree", _("agrees")
        DISSENT = "dissent", _("dissents")

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="assignments")
    expert = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="consultations_assigned")
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="+")
    assigned_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    assigned_at = models.DateTimeField(auto_now_add=True)
    vote = models.CharField(_("vote"), max_length=8, choices=Vote.choices, blank=True)
    vote_comment = models.TextField(_("comment"), blank=True, max_length=2000)
    voted_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["assigned_at", "id"]
        verbose_name = _("assignment")
        constraints = [models.UniqueConstraint(fields=["consultation", "expert"], name="one_assignment_per_expert")]

    def __str__(self) -> str:
        return f"{self.expert} on consultation {self.consultation_id}"


class Message(models.Model):
    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    text = models.TextField(_("message"), max_length=5000)
    written = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["written", "id"]
        verbose_name = _("message")

    def __str__(self) -> str:
        return f"message {self.pk} on consultation {self.consultation_id}"


class Recommendation(models.Model):
    """The panel's one written recommendation; each edit makes a new version and asks for the votes again."""

    consultation = models.OneToOneField(Consultation, on_delete=models.CASCADE, related_name="recommendation")
    text = models.TextField(_("recommendation"), max_length=10000)
    version = models.PositiveIntegerField(default=1)
    drafted_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    drafted_at = models.DateTimeField()
    letter = models.FileField(upload_to="consultations/letters/", blank=True, max_length=200)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("recommendation")

    def __str__(self) -> str:
        return f"recommendation v{self.version} of consultation {self.consultation_id}"


class Adherence(models.Model):
    """Whether the recommendation was followed, and how the child is, as the centre records at follow-up."""

    class Followed(models.TextChoices):
        YES = "yes", _("followed")
        PARTLY = "partly", _("partly followed")
        NO = "no", _("not followed")

    class Outcome(models.TextChoices):
        NO_EVIDENCE = "ned", _("alive, no evidence of disease")
        DISEASE = "awd", _("alive with disease")
        DEAD = "dead", _("dead")
        UNKNOWN = "unknown", _("unknown")

    consultation = models.OneToOneField(Consultation, on_delete=models.CASCADE, related_name="adherence")
    followed = models.CharField(_("recommendation"), max_length=8, choices=Followed.choices)
    reason = models.TextField(_("why not, or what differed"), blank=True, max_length=2000)
    outcome = models.CharField(_("outcome at follow-up"), max_length=8, choices=Outcome.choices)
    recorded_by = models.ForeignKey(USER, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("adherence")

    def __str__(self) -> str:
        return f"{self.followed}, {self.outcome}: consultation {self.consultation_id}"
