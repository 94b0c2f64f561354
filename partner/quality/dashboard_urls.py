"""URLs of the quality app (dashboard_urls); gathered by partner.quality.urls."""

from django.urls import path

from . import views_dashboard

urlpatterns = [
    path("", views_dashboard.quality_dashboard, name="dashboard"),
]
