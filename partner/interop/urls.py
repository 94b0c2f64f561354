"""Pages of the import (the web side of partner import cases)."""

from django.urls import path  # noqa: F401

app_name = "interop"

urlpatterns: list = []
