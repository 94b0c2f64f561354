from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from partner.accounts import views as account_views
from partner.api import api

urlpatterns = [
    path("", include("partner.website.urls")),
    path("dictionary/", include("partner.dictionary.urls")),
    path("cases/", include("partner.cases.urls")),
    path("linkage/", include("partner.linkage.urls")),
    path("quality/", include("partner.quality.urls")),
    path("import/", include("partner.interop.urls")),
    path("reports/", include("partner.reports.urls")),
    path("consult/", include("partner.consult.urls")),
    path("requests/", include("partner.datarequests.urls")),
    path("work/", include("partner.work.urls")),
    path("jobs/", include("partner.jobs.urls")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/second-factor/", account_views.verify, name="verify"),
    path("accounts/second-factor/setup/", account_views.setup, name="second_factor_setup"),
    path("accounts/tokens/", account_views.api_tokens, name="api_tokens"),
    path("accounts/tokens/<int:pk>/revoke/", account_views.revoke_api_token, name="revoke_api_token"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]
