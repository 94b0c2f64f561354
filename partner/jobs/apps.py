from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class JobsConfig(AppConfig):
    name = "partner.jobs"
    verbose_name = _("Long work")
    default_auto_field = "django.db.models.BigAutoField"
