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

        from django.db.models.signals import post_delete, post_save

        from partner.cases.models import FormRecord, TumourCase

        from . import jobs, snapshots  # noqa: F401  (jobs registers the registry-wide run)
        from .models import Finding, Query, QueryMessage

        # What the dashboard counts: a change asks for its figures again (see partner.quality.snapshots).
        for model in (TumourCase, FormRecord, Finding, Query, QueryMessage):
            for name, signal in (("save", post_save), ("delete", post_delete)):
                signal.connect(snapshots.changed, sender=model, dispatch_uid=f"dashboard-{model.__name__}-{name}")
