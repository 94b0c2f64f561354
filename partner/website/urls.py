from django.urls import path

from . import manage, pages, views

app_name = "website"

urlpatterns = [
    path("", views.home, name="home"),
    path("health", views.health, name="health"),
    path("about/", pages.about, name="about"),
    path("tumours/", pages.tumours, name="tumours"),
    path("guidelines/", pages.guidelines, name="guidelines"),
    path("guidelines/<int:pk>/files/<int:file_id>/", pages.guideline_file, name="guideline_file"),
    path("guidelines/<int:pk>/files/", manage.upload_guideline_file, name="guideline_upload"),
    path("consultation/", pages.consultation, name="consultation"),
    path("groups/", pages.groups, name="groups"),
    path("news/", pages.news, name="news"),
    path("news/<int:pk>/", pages.news_item, name="news_item"),
    path("statistics/", pages.public_statistics, name="statistics"),
    path("manage/<str:kind>/new/", manage.edit, name="new"),
    path("manage/<str:kind>/<int:pk>/", manage.edit, name="edit"),
]
