from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "partner.accounts"
    label = "accounts"
