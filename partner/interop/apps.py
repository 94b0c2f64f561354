from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InteropConfig(AppConfig):
    name = "partner.interop"
    verbose_name = _("Import and export")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import jobs  # noqa: F401  (registers the import's kind of job)
