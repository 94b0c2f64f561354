from django.apps import AppConfig


class WebsiteConfig(AppConfig):
    name = "partner.website"
    label = "website"
