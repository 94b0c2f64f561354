"""URLs of the clarification queries; gathered by partner.quality.urls under the "quality" namespace."""

from django.urls import path

from . import views_queries, views_query_list

urlpatterns = [
    path("queries/", views_query_list.query_list, name="queries"),
    path("queries/new/", views_queries.query_new, name="query_new"),
    path("queries/<int:pk>/", views_queries.query_detail, name="query"),
]
