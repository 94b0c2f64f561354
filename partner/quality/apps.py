from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    name = "partner.quality"
    verbose_name = _("Data quality")
    default_auto_field = "django.db.models.BigAutoField"
