from django.urls import path

from . import views

app_name = "jobs"

urlpatterns = [
    path("", views.my_jobs, name="list"),
    path("<uuid:pk>/", views.job_page, name="job"),
    path("<uuid:pk>/download/", views.download, name="download"),
    path("<uuid:pk>/again/", views.run_again, name="again"),
]
