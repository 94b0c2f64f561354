from django.apps import AppConfig


class LinkageConfig(AppConfig):
    name = "partner.linkage"
    verbose_name = "Record linkage"

    def ready(self) -> None:
        from . import jobs  # noqa: F401  (registers the comparison's kind of job)
