from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("population/", views.population, name="population"),
    path("<str:entity>/", views.entity_report, name="entity"),
    path("<str:entity>/report.pdf", views.report_pdf, name="pdf"),
    path("<str:entity>/evidence-pack.pdf", views.evidence_pdf, name="evidence"),
    path("<str:entity>/tables.zip", views.report_zip, name="zip"),
    path("<str:entity>/<slug:table>.csv", views.report_csv, name="csv"),
]
