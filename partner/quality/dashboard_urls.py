"""URLs of the quality app (dashboard_urls); gathered by partner.quality.urls."""

from django.urls import path

from . import jobs, views_dashboard

urlpatterns = [
    path("", views_dashboard.quality_dashboard, name="dashboard"),
    path("run/", jobs.start_run, name="run"),
]
