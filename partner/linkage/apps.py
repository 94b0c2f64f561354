from django.apps import AppConfig


class LinkageConfig(AppConfig):
    name = "partner.linkage"
    verbose_name = "Record linkage"
