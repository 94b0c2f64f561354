"""Every role against every page and API endpoint that touches cases or patients.

Out of scope is 404, never a leak of counts or names. The tables below are the specification: what
each role gets from each endpoint for a case registered in Padova, and who may move it along its
statuses. Lists are checked to hold exactly the cases in scope, and nothing of the others.
"""

import json
import re

from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import resolve

from partner.accounts.models import ApiToken, Membership, Role
from partner.cases import urls as case_urls
from partner.cases.api import router as cases_router
from partner.cases.api_patients import router as patients_router
from partner.cases.models import AccessLog, ConsentWithdrawal, FormRecord, Patient, TumourCase
from partner.cases.tests.test_api_write import new_case
from partner.cases.tests.test_edit import page_data
from partner.cases.tests.test_new_case import post_data
from partner.cases.workflow import TRANSITIONS
from partner.testing import RegistryTestCase, matrix, undone

ROLES = ("dm_padova", "clinician", "nc_italy", "european", "dm_paris", "nc_france", "expert", "researcher", "anonymous")

#: The roles for whom the Padova case is out of scope.
OUTSIDE = ("dm_paris", "nc_france", "expert", "researcher")

#: What each role gets for the Padova case: a status code, or `login` for the redirect to the log-in page.
#: A refused request (4xx or login) changes nothing, not even the access log; a `read` changes no data;
#: a `write` that is let through changes it.
MATRIX = """
endpoint                                                 kind  dm_padova clinician nc_italy european dm_paris nc_france expert researcher anonymous
GET    /                                                 read     200       200      200      200      200      200     200      200        200
GET    /cases/                                           read     200       200      200      200      200      200     200      200      login
GET    /cases/reconsent/                                 read     200       200      200      200      200      200     200      200      login
GET    /cases/reads/                                     read     403       403      200      200      403      200     403      403      login
GET    /cases/new/                                       read     200       200      403      403      200      403     403      403      login
POST   /cases/new/                                       write    302       302      403      403      302      403     403      403      login
POST   /cases/module/ with the case's stored module      read     200       200      200      200      404      404     404      404      login
GET    /cases/{case}/                                    read     200       200      200      200      404      404     404      404      login
POST   /cases/{case}/                                    read     200       200      200      200      404      404     404      404      login
GET    /cases/{case}/edit/                               read     200       200      200      200      404      404     404      404      login
POST   /cases/{case}/edit/                               write    302       302      302      302      404      404     404      404      login
GET    /cases/{case}/edit/treatment/                     read     200       200      200      200      404      404     404      404      login
POST   /cases/{case}/edit/treatment/                     write    302       302      302      302      404      404     404      404      login
GET    /cases/{case}/withdraw/                           read     200       200      200      200      404      404     404      404      login
POST   /cases/{case}/withdraw/                           write    302       302      302      302      404      404     404      404      login
GET    /cases/{case}/history/                            read     200       200      200      200      404      404     404      404      login
POST   /cases/{case}/history/                            read     200       200      200      200      404      404     404      404      login
GET    /cases/{case}/reads/                              read     403       403      200      200      403      404     403      403      login
POST   /cases/{case}/reads/                              read     403       403      200      200      403      404     403      403      login
GET    /cases/{case}/status/                             read     405       405      405      405      405      405     405      405      login
POST   /cases/{case}/status/                             write    302       302      302      302      404      404     404      404      login
GET    /accounts/tokens/                                 read     200       200      200      200      200      200     200      200      login
POST   /accounts/tokens/{token}/revoke/                  write    302       404      404      404      404      404     404      404      login
GET    /api/cases                                        read     200       200      200      200      200      200     200      200        401
POST   /api/cases                                        write    201       201      403      403      201      403     403      403        401
POST   /api/cases for the child known in Padova          write    201       201      403      403      404      403     403      403        401
GET    /api/cases/{case}                                 read     200       200      200      200      404      404     404      404        401
PATCH  /api/cases/{case}/records/diagnosis/1             write    200       200      200      200      404      404     404      404        401
POST   /api/cases/{case}/records/treatment               write    201       201      201      201      404      404     404      404        401
DELETE /api/cases/{case}/records/treatment/1?version={v} write    204       204      204      204      404      404     404      404        401
POST   /api/cases/{case}/status                          write    200       200      200      200      404      404     404      404        401
GET    /api/patients                                     read     200       200      200      200      200      200     200      200        401
POST   /api/patients/lookup                              read     200       200      403      403      200      403     403      403        401
GET    /api/patients/{pseudonym}                         read     200       200      200      200      404      404     404      404        401
GET    /quality/                                         read     200       200      200      200      200      200     403      403      login
GET    /quality/findings/                                read     200       200      200      200      200      200     200      200      login
GET    /quality/queries/                                 read     200       200      200      200      200      200     200      200      login
GET    /quality/queries/new/?case={case}                 read     403       403      200      200      404      404     404      404      login
GET    /api/quality/findings                             read     200       200      200      200      200      200     200      200        401
GET    /api/quality/queries                              read     200       200      200      200      200      200     200      200        401
"""  # noqa: E501

#: Who moves the Padova case from one status to another: `moved`, `refused` (in scope, not their role) or 404.
STATUS_MATRIX = """
from       to          dm_padova clinician nc_italy european dm_paris nc_france expert researcher
draft      submitted     moved     moved     moved    moved     404      404     404      404
submitted  draft        refused   refused    moved    moved     404      404     404      404
submitted  validated    refused   refused    moved    moved     404      404     404      404
validated  locked       refused   refused    moved    moved     404      404     404      404
locked     validated    refused   refused    moved    moved     404      404     404      404
draft      validated    refused   refused   refused  refused    404      404     404      404
validated  submitted    refused   refused   refused  refused    404      404     404      404
"""

#: The cases each role sees of the three registered in Padova, Milano and Paris.
SCOPE = {
    "dm_padova": {"padova"},
    "clinician": {"padova"},
    "nc_italy": {"padova", "milano"},
    "european": {"padova", "milano", "paris"},
    "dm_paris": {"paris"},
    "nc_france": {"paris"},
    "expert": set(),
    "researcher": set(),
}

#: The identifying data of the child registered in Padova, as a centre would type them.
GIULIA = {
    "given_names": "Giulia",
    "family_names": "Rossi",
    "date_of_birth": "2000-01-15",
    "sex": "female",
    "country_of_birth": "IT",
}


class RoleMatrixTests(RegistryTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.clinician = cls.member("clinician.padova", Role.CLINICIAN, centre=cls.padova)
        cls.nc_france = cls.member("nc.france", Role.NATIONAL_COORDINATOR, country=cls.france)
        # Complete, so that it can be submitted; born in 2000, so it is due for re-consent.
        cls.padova_case = cls.register(
            cls.padova,
            born=GIULIA["date_of_birth"],
            diagnosis={
                "diagnosis_date": "2010-03-01",
                "morphology": "8370/3",
                "topography": "C74.0",
                "basis_of_diagnosis": "7",
            },
            consent={"consent_reuse": "given", "consent_date": "2010-03-05", "consent_given_by": "parents"},
            treatment=[
                {"line_type": "chemotherapy", "treatment_start_date": "2010-04-01", "chemo_agents": ["cisplatin"]}
            ],
        )
        cls.milano_case = cls.register(
            cls.milano, given="Marco", family="Bianchi", born="2001-06-01", diagnosed="2011-01-10"
        )
        cls.paris_case = cls.register(
            cls.paris,
            given="Léa",
            family="Martin",
            born="2002-02-02",
            diagnosed="2012-02-02",
            morphology="8720/3",
            topography="C44.5",
        )
        cls.keys = {role: ApiToken.issue(getattr(cls, role), "matrix")[1] for role in ROLES if role != "anonymous"}
        cls.laptop = ApiToken.issue(cls.dm_padova, "laptop")[0]
        for case in (cls.padova_case, cls.milano_case, cls.paris_case):
            AccessLog.objects.create(user=cls.european, case=case, channel=AccessLog.Channel.WEB, what="case page")

    @classmethod
    def member(cls, username, role, **scope):
        """A user who only ever signs in by `sign_in`: no password, so none to hash."""
        user = get_user_model().objects.create_user(username)
        Membership.objects.create(user=user, role=role, **scope)
        return user

    def setUp(self):
        self.cases = {"padova": self.padova_case, "milano": self.milano_case, "paris": self.paris_case}
        with undone():  # what the browser posts back from the edit page, with one date changed
            self.sign_in(self.client, self.dm_padova)
            self.edit_data = page_data(self.client.get(f"/cases/{self.padova_case.pk}/edit/"))
            self.edit_data["diagnosis-diagnosis_date"] = "2010-03-02"

    def web(self, role):
        client = Client()
        if role != "anonymous":
            self.sign_in(client, getattr(self, role))
        return client

    def api(self, role, method, url, body=None):
        headers = {"authorization": f"Bearer {self.keys[role]}"} if role != "anonymous" else {}
        data = json.dumps(body) if body is not None else ""
        return Client().generic(method, url, data, content_type="application/json", headers=headers)

    def record(self, form, number=1):
        return FormRecord.objects.get(case=self.padova_case, form__code=form, number=number)

    def snapshot(self):
        """What a refused request must leave as it was: the data, and the access log."""
        return {
            "cases": sorted(TumourCase.objects.values_list("id", "status")),
            "patients": Patient.objects.count(),
            "records": sorted(FormRecord.objects.values_list("case_id", "form__code", "number", "version")),
            "record versions": FormRecord.history.count(),
            "withdrawals": ConsentWithdrawal.objects.count(),
            "tokens": sorted(ApiToken.objects.values_list("id", "revoked")),
            "reads": AccessLog.objects.count(),
        }

    def bodies(self, case_id, pseudonym):
        """The body of each request of the matrix that needs one, built from the registry as it is now."""
        diagnosis = self.record("diagnosis")
        computed = {"age_at_diagnosis", "age_at_onset"}
        return {
            "POST /cases/new/": post_data(),
            "POST /cases/module/ with the case's stored module": {
                "module-case": case_id,
                "module-born": GIULIA["date_of_birth"],
                "diagnosis-morphology": "8370/3",
                "diagnosis-topography": "C74.0",
            },
            "POST /cases/{case}/edit/": self.edit_data,
            "POST /cases/{case}/edit/treatment/": {
                "seen": [
                    f"treatment:{r.number}:{r.version}" for r in self.padova_case.records.filter(form__code="treatment")
                ],
                "treatment-row": ["new1"],
                "treatment-new1-line_type": "chemotherapy",
            },
            "POST /cases/{case}/withdraw/": {"withdrawn_on": "2025-01-15", "extent": "keep", "confirm": "on"},
            "POST /cases/{case}/status/": {"to": "submitted"},
            "POST /api/cases": new_case(),
            "POST /api/cases for the child known in Padova": {
                "pseudonym": pseudonym,
                "forms": {"diagnosis": {"diagnosis_date": "2015-06-01", "morphology": "8370/3", "topography": "C74.0"}},
            },
            "PATCH /api/cases/{case}/records/diagnosis/1": {
                "version": diagnosis.version,
                "values": {
                    **{k: v for k, v in diagnosis.values.items() if k not in computed},
                    "diagnosis_date": "2010-03-02",
                },
            },
            "POST /api/cases/{case}/records/treatment": {
                "values": {"line_type": "surgery", "treatment_start_date": "2010-05-01"}
            },
            "POST /api/cases/{case}/status": {"status": "submitted"},
            "POST /api/patients/lookup": GIULIA,
        }

    def request(self, role, label, *, missing=False):
        """Send the matrix's request as `role`: on the Padova case, or on a case that does not exist."""
        case_id = 999_999 if missing else self.padova_case.pk
        pseudonym = "0" * 64 if missing else self.padova_case.patient.pseudonym
        method, path, *_description = label.split()
        url = path.format(
            case=case_id,
            pseudonym=pseudonym,
            token=999_999 if missing else self.laptop.pk,
            v=self.record("treatment").version,
        )
        body = self.bodies(case_id, pseudonym).get(label)
        if url.startswith("/api/"):
            return self.api(role, method, url, body)
        client = self.web(role)
        return client.get(url, body) if method == "GET" else client.post(url, body or {})

    def assert_outcome(self, response, expected):
        if expected == "login":
            self.assertEqual(response.status_code, 302)
            self.assertTrue(response["Location"].startswith("/accounts/login/?next="), response["Location"])
            return
        self.assertEqual(response.status_code, int(expected), response.content[:500])
        if response.status_code == 302:  # to where the work leads, not to a log-in or a second factor
            self.assertNotIn(response["Location"].split("?")[0], ("/accounts/login/", "/accounts/second-factor/"))

    def test_each_role_gets_what_the_matrix_says_and_a_refusal_changes_nothing(self):
        for label, row in matrix(MATRIX, len(ROLES) + 1).items():
            kind = row.pop("kind")
            for role, expected in row.items():
                with self.subTest(endpoint=label, role=role), undone():
                    before = self.snapshot()
                    response = self.request(role, label)
                    after = self.snapshot()
                    self.assert_outcome(response, expected)
                    if expected == "login" or int(expected) >= 400:
                        self.assertEqual(after, before)
                    else:
                        changed = {key for key in before if after[key] != before[key]} - {"reads"}
                        self.assertEqual(bool(changed), kind == "write", changed)

    def test_a_case_out_of_scope_is_answered_exactly_like_a_case_that_does_not_exist(self):
        def seen(response):
            """The answer as the user sees it, less the form token and the page's own address."""
            text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", response.content.decode())
            return response.status_code, re.sub(r'name="next" type="hidden" value="[^"]*"', "", text)

        for label, row in matrix(MATRIX, len(ROLES) + 1).items():
            for role in OUTSIDE:
                if row[role] != "404":
                    continue
                with self.subTest(endpoint=label, role=role), undone():
                    self.assertEqual(seen(self.request(role, label)), seen(self.request(role, label, missing=True)))

    def test_the_matrix_covers_every_case_page_and_every_case_and_patient_route(self):
        rows = [
            (method, path.split("?")[0].format(case=1, pseudonym="p", token=1))
            for method, path, *_ in map(str.split, matrix(MATRIX, len(ROLES) + 1))
        ]
        web = {(method, resolve(path).url_name) for method, path in rows if path.startswith("/cases/")}
        pages = {pattern.name for pattern in case_urls.urlpatterns}
        self.assertEqual({name for _method, name in web}, pages)
        objects = {pattern.name for pattern in case_urls.urlpatterns if "<int:pk>" in str(pattern.pattern)}
        self.assertLessEqual({(method, name) for name in objects for method in ("GET", "POST")}, web)
        routes = {
            (method, resolve(path).route) for method, path in rows if path.startswith(("/api/cases", "/api/patients"))
        }
        operations = {
            (method, f"api/{prefix}{path}".replace("{", "<").replace("}", ">"))
            for prefix, router in (("cases", cases_router), ("patients", patients_router))
            for path, view in router.path_operations.items()
            for operation in view.operations
            for method in operation.methods
        }
        self.assertEqual(routes, operations)

    def assert_no_trace(self, text, hidden, *, links=True):
        for case in hidden:
            for trace in (case.patient.pseudonym[:12], case.centre.code, case.centre.city):
                self.assertNotIn(trace, text)
            if links:
                self.assertNotIn(f"/cases/{case.pk}/", text)

    def test_every_list_holds_exactly_the_cases_in_scope_and_no_trace_of_the_others(self):
        for role, names in SCOPE.items():
            seen = {self.cases[name].pk for name in names}
            pseudonyms = {self.cases[name].patient.pseudonym for name in names}
            hidden = [case for name, case in self.cases.items() if name not in names]
            client = self.web(role)
            with self.subTest(role=role, page="case list"):
                response = client.get("/cases/")
                self.assertEqual({case.pk for case in response.context["rows"]}, seen)
                self.assertEqual(response.context["table"].paginator.count, len(seen))
                self.assert_no_trace(response.content.decode(), hidden)
            with self.subTest(role=role, page="re-consent"):
                response = client.get("/cases/reconsent/")
                self.assertEqual({row["case"].pk for row in response.context["rows"]}, seen)
                self.assert_no_trace(response.content.decode(), hidden)
            with self.subTest(role=role, page="home"):
                response = client.get("/")
                # A coordinator's figures are exact; anyone else's are released: one case is hidden ("…").
                exact = role in ("nc_italy", "european", "nc_france")
                shown = len(seen) if exact or len(seen) == 0 or len(seen) >= 5 else "…"
                self.assertEqual((response.context["case_count"], response.context["patient_count"]), (shown,) * 2)
                countries = {self.cases[name].centre.country.name for name in names}
                self.assertEqual({row["name"] for row in response.context["country_rows"]}, countries)
                self.assert_no_trace(response.content.decode(), hidden)
            if role in ("nc_italy", "european", "nc_france"):
                with self.subTest(role=role, page="access log"):
                    response = client.get("/cases/reads/")
                    self.assertEqual({read.case_id for read in response.context["page"]}, seen)
                    self.assert_no_trace(response.content.decode(), hidden)
            with self.subTest(role=role, page="API tokens"):
                tokens = client.get("/accounts/tokens/").context["tokens"]
                self.assertEqual({token.user_id for token in tokens}, {getattr(self, role).pk})
            with self.subTest(role=role, endpoint="/api/cases"):
                response = self.api(role, "GET", "/api/cases")
                body = response.json()
                self.assertEqual(({case["id"] for case in body["items"]}, body["count"]), (seen, len(seen)))
                self.assert_no_trace(response.content.decode(), hidden, links=False)
            with self.subTest(role=role, endpoint="/api/patients"):
                response = self.api(role, "GET", "/api/patients")
                body = response.json()
                self.assertEqual({p["pseudonym"] for p in body["items"]}, pseudonyms)
                self.assertEqual({pk for p in body["items"] for pk in p["cases"]}, seen)
                self.assertEqual(body["count"], len(pseudonyms))
                self.assert_no_trace(response.content.decode(), hidden, links=False)

    def test_a_lookup_says_the_child_is_known_only_where_the_child_has_a_case_in_scope(self):
        for role in ("dm_padova", "clinician", "dm_paris"):
            with self.subTest(role=role):
                answer = self.api(role, "POST", "/api/patients/lookup", GIULIA).json()
                self.assertEqual(answer["known"], "padova" in SCOPE[role])

    def test_each_role_moves_a_case_only_along_the_transitions_of_its_role(self):
        rows = matrix(STATUS_MATRIX, len(SCOPE))
        self.assertLessEqual({f"{frm} {to}" for frm, to in TRANSITIONS}, set(rows))
        pk = self.padova_case.pk
        for label, row in rows.items():
            frm, to = label.split()
            for role, expected in row.items():
                for channel in ("web", "api"):
                    with self.subTest(transition=f"{frm} → {to}", role=role, channel=channel), undone():
                        TumourCase.objects.filter(pk=pk).update(status=frm)
                        if channel == "web":
                            response = self.web(role).post(f"/cases/{pk}/status/", {"to": to})
                            status = 404 if expected == "404" else 302
                        else:
                            response = self.api(role, "POST", f"/api/cases/{pk}/status", {"status": to})
                            status = {"moved": 200, "refused": 403, "404": 404}[expected]
                        self.assertEqual(response.status_code, status, response.content[:500])
                        now = TumourCase.objects.get(pk=pk).status
                        self.assertEqual(now, to if expected == "moved" else frm)
