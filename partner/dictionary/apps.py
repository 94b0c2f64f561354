from django.apps import AppConfig


class DictionaryConfig(AppConfig):
    name = "partner.dictionary"
    label = "dictionary"
