"""URLs of the quality app (dashboard_urls); gathered by partner.quality.urls."""

urlpatterns: list = []
