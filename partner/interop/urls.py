"""Pages of the import (the web side of partner import cases)."""

from django.urls import path

from . import views

app_name = "interop"

urlpatterns = [
    path("", views.start, name="import"),
    path("<str:token>/commit/", views.commit, name="commit"),
    path("<str:token>/report.csv", views.report, name="report"),
]
