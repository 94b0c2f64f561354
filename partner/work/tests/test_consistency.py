"""Each My work count is the count of the list its link opens, for the same user."""

from __future__ import annotations

import re

from django.test import Client

from partner.work.worklist import work_for

from .story import WorkStory

#: Items whose link is no filtered list of the same rows: the re-consent page (a page of its own), and
#: the sent recommendations, whose list cannot leave out those already followed up.
NOT_A_LIST = {"reconsent_due", "recommendations"}

COUNT = re.compile(r'data-count="(\d+)"|<p class="count"[^>]*>[^<\d]*(\d+)[^<]*</p>')


def list_count(html: str) -> int | None:
    """The number of rows a list says it holds (its `data-count`, or the first number of its count line)."""
    found = COUNT.search(html)
    return int(found.group(1) or found.group(2)) if found else None


class ListCountTests(WorkStory):
    def test_every_count_is_the_count_of_the_list_it_links_to(self) -> None:
        for name in ("dm_padova", "dm_paris", "clinician", "nc_italy", "european", "expert", "researcher"):
            user = getattr(self, name)
            client = Client()
            self.sign_in(client, user)
            for item in work_for(user):
                if item.key in NOT_A_LIST:
                    continue
                with self.subTest(user=name, item=item.key, url=item.url):
                    response = client.get(item.url)
                    self.assertEqual(response.status_code, 200)
                    self.assertEqual(list_count(response.content.decode()), item.count)

    def test_the_re_consent_count_is_the_number_of_cases_its_page_lists(self) -> None:
        for user in (self.dm_padova, self.dm_paris):
            client = Client()
            self.sign_in(client, user)
            item = next(i for i in work_for(user) if i.key == "reconsent_due")
            body = client.get(item.url).content.decode().split("<tbody>", 1)[1]
            self.assertEqual(len(re.findall(r'<a href="/cases/\d+/">', body)), item.count)

    def test_the_count_is_read_from_either_form_of_a_list(self) -> None:
        self.assertEqual(list_count('<table data-count="7">'), 7)
        self.assertEqual(list_count('<p class="count" role="status">12 cases</p>'), 12)
        self.assertIsNone(list_count("<p>no count</p>"))
