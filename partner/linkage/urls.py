from django.urls import path

from . import jobs, views

app_name = "linkage"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("<int:pk>/", views.pair, name="pair"),
    path("run/", jobs.start_run, name="run"),
]
