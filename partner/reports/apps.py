from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "partner.reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from . import jobs  # noqa: F401  (registers the PDFs' kinds of job)
