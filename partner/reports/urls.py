from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("<str:entity>/", views.entity_report, name="entity"),
    path("<str:entity>/report.pdf", views.report_pdf, name="pdf"),
    path("<str:entity>/tables.zip", views.report_zip, name="zip"),
    path("<str:entity>/<slug:table>.csv", views.report_csv, name="csv"),
]
