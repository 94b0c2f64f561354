"""The website's content pages take only the kinds of content they know."""

from __future__ import annotations

from partner.testing import RegistryTestCase


class ManageKindTests(RegistryTestCase):
    def test_an_unknown_kind_of_content_is_not_found(self) -> None:
        self.sign_in(self.client, self.nc_italy)
        self.assertEqual(self.client.get("/manage/news/new/").status_code, 200)
        self.assertEqual(self.client.get("/manage/foo/new/").status_code, 404)
        self.assertEqual(self.client.get("/manage/foo/1/").status_code, 404)
        self.assertEqual(self.client.post("/manage/foo/new/", {"title": "x"}).status_code, 404)
