from django.urls import path

from . import lists, views, views_dashboard

app_name = "consult"

urlpatterns = [
    path("", lists.consultation_list, name="list"),
    path("new/", views.new, name="new"),
    path("dashboard/", views_dashboard.dashboard, name="dashboard"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/assign/", views.assign, name="assign"),
    path("<int:pk>/message/", views.message, name="message"),
    path("<int:pk>/draft/", views.draft, name="draft"),
    path("<int:pk>/vote/", views.vote, name="vote"),
    path("<int:pk>/follow-up/", views.follow_up, name="follow_up"),
    path("<int:pk>/withdraw/", views.withdraw, name="withdraw"),
    path("<int:pk>/attach/", views.attach, name="attach"),
    path("<int:pk>/attachments/<int:attachment_id>/", views.attachment, name="attachment"),
    path("<int:pk>/letter.pdf", views.letter, name="letter"),
]
