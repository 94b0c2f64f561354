from django.urls import path

from . import dashboard_urls, query_urls, views_findings

app_name = "quality"

urlpatterns = [
    path("findings/", views_findings.findings, name="findings"),
    path("findings/<int:pk>/confirm/", views_findings.confirm_finding, name="confirm"),
    *query_urls.urlpatterns,
    *dashboard_urls.urlpatterns,
]
