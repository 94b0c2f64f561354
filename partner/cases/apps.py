from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "partner.cases"
    label = "cases"
