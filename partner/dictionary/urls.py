from django.urls import path

from . import views

app_name = "dictionary"
urlpatterns = [
    path("", views.index, name="index"),
    path("entities/<str:code>/", views.entity, name="entity"),
    path("forms/<str:code>/", views.form, name="form"),
]
