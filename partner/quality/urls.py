from . import dashboard_urls, query_urls

app_name = "quality"

urlpatterns = [*query_urls.urlpatterns, *dashboard_urls.urlpatterns]
