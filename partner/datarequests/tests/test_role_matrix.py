"""Every role against every page and API endpoint of data requests.

The researcher owns a submitted and an approved request. Out of scope (someone else's request,
or a role that has no business with requests) is 404, never a 403 that says the request exists.
"""

import json
import re

from django.test import Client
from django.urls import resolve

from partner.accounts.models import ApiToken
from partner.cases.models import AccessLog
from partner.datarequests import urls as request_urls
from partner.datarequests.api import router
from partner.datarequests.models import DataRequest
from partner.interop.models import ExportLog
from partner.testing import matrix, undone

from .story import DataRequestTestCase

ROLES = ("dm_padova", "nc_italy", "european", "expert", "researcher", "other_researcher", "anonymous")

#: What each role gets: a status code, or `login` for the redirect to the log-in page. A refused request
#: changes nothing; a `read` changes no request; a `write` changes one; a `download` is logged.
MATRIX = """
endpoint                                  kind      dm_padova nc_italy european expert researcher other_researcher anonymous
GET    /requests/                         read        403       403      200     403      200          200          login
GET    /requests/new/                     read        403       403      403     403      200          200          login
GET    /requests/new/preview/             read        403       403      200     403      200          200          login
POST   /requests/new/                     write       403       403      403     403      302          302          login
GET    /requests/{submitted}/             read        404       404      200     404      200          404          login
GET    /requests/{submitted}/decide/      read        405       405      405     405      405          405          login
POST   /requests/{submitted}/decide/      write       404       404      302     404      403          404          login
GET    /requests/{submitted}/withdraw/    read        405       405      405     405      405          405          login
POST   /requests/{submitted}/withdraw/    write       404       404      403     404      302          404          login
GET    /requests/{approved}/extract/      download    404       404      403     404      302          404          login
GET    /api/requests                      read        403       403      200     403      200          200           401
POST   /api/requests                      write       403       403      403     403      201          201           401
GET    /api/requests/{submitted}          read        404       404      200     404      200          404           401
POST   /api/requests/{submitted}/decision write       404       404      200     404      403          404           401
POST   /api/requests/{submitted}/withdraw write       404       404      403     404      200          404           401
GET    /api/requests/{approved}/extract   download    404       404      403     404      200          404           401
"""  # noqa: E501

BODIES = {
    "POST /requests/new/": {"title": "T", "purpose": "P", "variables": ["registration.sex"], "entities": ["ACC"]},
    "POST /requests/{submitted}/decide/": {"decision": "approved", "note": "Fine."},
    "POST /api/requests": {
        "title": "T",
        "purpose": "P",
        "variables": ["registration.sex"],
        "cohort": {"entities": ["ACC"]},
    },
    "POST /api/requests/{submitted}/decision": {"decision": "approved", "note": "Fine."},
}


class RequestRoleMatrixTests(DataRequestTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.keys = {role: ApiToken.issue(getattr(cls, role), "matrix")[1] for role in ROLES if role != "anonymous"}

    def setUp(self):
        self.submitted = self.submit()
        self.approved_request = self.approved()
        self.theirs = self.submit(user=self.other_researcher)

    def web(self, role):
        client = Client()
        if role != "anonymous":
            self.sign_in(client, getattr(self, role))
        return client

    def request(self, role, label, *, missing=False):
        method, path = label.split()
        url = path.format(
            submitted=999_999 if missing else self.submitted.pk,
            approved=999_998 if missing else self.approved_request.pk,
        )
        body = BODIES.get(label)
        if url.startswith("/api/"):
            headers = {"authorization": f"Bearer {self.keys[role]}"} if role != "anonymous" else {}
            data = json.dumps(body) if body is not None else ""
            return Client().generic(method, url, data, content_type="application/json", headers=headers)
        client = self.web(role)
        return client.get(url) if method == "GET" else client.post(url, body or {})

    def snapshot(self):
        return {
            "requests": sorted(DataRequest.objects.values_list("id", "status", "download_count")),
            "history": DataRequest.history.count(),
            "exports": ExportLog.objects.count(),
            "reads": AccessLog.objects.count(),
        }

    def assert_outcome(self, response, expected):
        if expected == "login":
            self.assertEqual(response.status_code, 302)
            self.assertTrue(response["Location"].startswith("/accounts/login/?next="), response["Location"])
            return
        self.assertEqual(response.status_code, int(expected), response.content[:500])
        if response.status_code == 302:
            # back to the request, or on to the page of the work it started (an extract is built by the worker)
            self.assertTrue(response["Location"].startswith(("/requests/", "/jobs/")), response["Location"])

    def test_each_role_gets_what_the_matrix_says_and_a_refusal_changes_nothing(self):
        for label, row in matrix(MATRIX, len(ROLES) + 1).items():
            kind = row.pop("kind")
            for role, expected in row.items():
                with self.subTest(endpoint=label, role=role), undone():
                    before = self.snapshot()
                    response = self.request(role, label)
                    after = self.snapshot()
                    self.assert_outcome(response, expected)
                    changed = {key for key in before if after[key] != before[key]}
                    if expected == "login" or int(expected) >= 400 or kind == "read":
                        self.assertEqual(changed, set())
                    elif kind == "write":
                        self.assertEqual(changed, {"requests", "history"})
                    else:
                        if response.status_code == 302:  # the web's extract is built by the worker, here at once
                            response = self.web(role).get(response["Location"] + "download/")
                        self.assertEqual(response["Content-Type"], "application/zip")
                        self.assertEqual(changed, {"requests", "history", "exports", "reads"})

    def test_someone_elses_request_is_answered_exactly_like_a_request_that_does_not_exist(self):
        def seen(response):
            """The answer as the user sees it, less the form token and the page's own address."""
            text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())
            return response.status_code, re.sub(r'name="next" type="hidden" value="[^"]*"', "", text)

        for label, row in matrix(MATRIX, len(ROLES) + 1).items():
            for role in ("other_researcher", "dm_padova", "expert"):
                if row[role] != "404":
                    continue
                with self.subTest(endpoint=label, role=role), undone():
                    self.assertEqual(seen(self.request(role, label)), seen(self.request(role, label, missing=True)))

    def test_the_matrix_covers_every_page_and_every_api_route(self):
        rows = [
            (method, path.format(submitted=1, approved=1))
            for method, path in (label.split() for label in matrix(MATRIX, len(ROLES) + 1))
        ]
        pages = {resolve(path).url_name for _method, path in rows if not path.startswith("/api/")}
        self.assertEqual(pages, {pattern.name for pattern in request_urls.urlpatterns})
        routes = {(method, resolve(path).route) for method, path in rows if path.startswith("/api/")}
        operations = {
            (method, f"api/requests{path}".replace("{", "<").replace("}", ">"))
            for path, view in router.path_operations.items()
            for operation in view.operations
            for method in operation.methods
        }
        self.assertEqual(routes, operations)

    def test_each_list_holds_exactly_the_requests_its_reader_may_see(self):
        everyone = {self.submitted.pk, self.approved_request.pk, self.theirs.pk}
        own = {"researcher": everyone - {self.theirs.pk}, "other_researcher": {self.theirs.pk}, "european": everyone}
        for role, expected in own.items():
            with self.subTest(role=role, page="list"):
                response = self.web(role).get("/requests/")
                self.assertEqual({item.pk for item in response.context["rows"]}, expected)
                for hidden in everyone - expected:
                    self.assertNotContains(response, f"/requests/{hidden}/")
            with self.subTest(role=role, endpoint="/api/requests"):
                body = self.request(role, "GET /api/requests").json()
                self.assertEqual(({item["id"] for item in body["items"]}, body["count"]), (expected, len(expected)))

    def test_the_navigation_shows_data_requests_to_researchers_and_the_european_coordinator_only(self):
        for role in ROLES:
            with self.subTest(role=role):
                shown = 'href="/requests/"' in self.web(role).get("/").content.decode()
                self.assertEqual(shown, role in ("european", "researcher", "other_researcher"))
