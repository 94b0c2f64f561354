from django.urls import path

from . import entry, lists, views

app_name = "cases"
urlpatterns = [
    path("", lists.case_list, name="list"),
    path("new/", entry.case_new, name="new"),
    path("module/", entry.module, name="module"),
    path("reconsent/", views.reconsent_due, name="reconsent"),
    path("reads/", views.access_log, name="reads"),
    path("<int:pk>/reads/", views.access_log, name="case_reads"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/edit/", entry.case_edit, name="edit"),
    path("<int:pk>/edit/<slug:form>/", entry.case_form_edit, name="edit_form"),
    path("<int:pk>/withdraw/", entry.case_withdraw, name="withdraw"),
    path("<int:pk>/history/", views.case_history, name="history"),
    path("<int:pk>/status/", views.case_status, name="status"),
]
