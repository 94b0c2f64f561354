from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    name = "partner.quality"
    verbose_name = _("Data quality")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from partner.cases.signals import case_changed

        from .receivers import check_changed_case

        case_changed.connect(check_changed_case, dispatch_uid="quality-check-on-save")
