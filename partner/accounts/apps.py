from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "partner.accounts"
    label = "accounts"

    def ready(self) -> None:
        from . import throttle  # noqa: F401  (connects the notice of failed log-ins)
