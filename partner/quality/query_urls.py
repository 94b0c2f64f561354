"""URLs of the clarification queries; gathered by partner.quality.urls under the "quality" namespace."""

from django.urls import path

from . import views_queries

urlpatterns = [
    path("queries/", views_queries.query_list, name="queries"),
    path("queries/new/", views_queries.query_new, name="query_new"),
    path("queries/<int:pk>/", views_queries.query_detail, name="query"),
]
