"""URLs of the quality app (query_urls); gathered by partner.quality.urls."""

urlpatterns: list = []
