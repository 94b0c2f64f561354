"""The shared base of the suite's database tests: one registry, named users per role.

Every test reads like a story: a data manager in Padova, one in Paris, a national coordinator
for Italy, a European coordinator, an expert, a researcher.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.db import transaction
from django.test import TestCase

from partner.accounts.models import Centre, Country, Membership, Role
from partner.cases.models import TumourCase
from partner.cases.services import create_case
from partner.dictionary.loader import Dictionary, get_dictionary, load_bundled
from partner.lib.pseudonym import Identity, pseudonym

#: The password of every user of the test registry.
PASSWORD = "correct horse battery staple"


def case_forms(
    *,
    born: str = "2012-05-04",
    sex: str = "female",
    diagnosed: str = "2024-02-10",
    morphology: str = "8370/3",
    topography: str = "C74.0",
    **extra: Any,
) -> dict[str, Any]:
    """The smallest complete set of forms for a case, with any form given in `extra` added."""
    forms: dict[str, Any] = {
        "registration": {"date_of_birth": born, "sex": sex},
        "diagnosis": {"diagnosis_date": diagnosed, "morphology": morphology, "topography": topography},
    }
    forms.update(extra)
    return forms


def matrix(text: str, columns: int) -> dict[str, dict[str, str]]:
    """A whitespace-aligned table, as the role-matrix tests write them, as {row label: {column: cell}}:
    the last `columns` words of each line are its cells, the words before them its label."""
    header, *rows = (line.split() for line in text.strip().splitlines())
    names = header[-columns:]
    return {" ".join(words[:-columns]): dict(zip(names, words[-columns:], strict=True)) for words in rows}


@contextlib.contextmanager
def undone() -> Iterator[None]:
    """Whatever the block writes is rolled back, so that every cell of a matrix starts from the same registry."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


class RegistryStory:
    """The registry every test starts from; mixed into TestCase and the live-server tests."""

    dictionary: Dictionary
    italy: Country
    france: Country
    padova: Centre
    milano: Centre
    paris: Centre
    dm_padova: Any
    dm_paris: Any
    nc_italy: Any
    european: Any
    expert: Any
    researcher: Any

    @classmethod
    def build_story(cls) -> None:
        load_bundled()
        cls.dictionary = get_dictionary()
        cls.italy = Country.objects.create(code="IT", name="Italy")
        cls.france = Country.objects.create(code="FR", name="France")
        cls.padova = Centre.objects.create(code="IT-PD", name="Paediatric Oncology", city="Padova", country=cls.italy)
        cls.milano = Centre.objects.create(code="IT-MI", name="Paediatric Oncology", city="Milano", country=cls.italy)
        cls.paris = Centre.objects.create(code="FR-PA", name="Paediatric Oncology", city="Paris", country=cls.france)
        cls.dm_padova = cls._user("dm.padova", Role.DATA_MANAGER, centre=cls.padova)
        cls.dm_paris = cls._user("dm.paris", Role.DATA_MANAGER, centre=cls.paris)
        cls.nc_italy = cls._user("nc.italy", Role.NATIONAL_COORDINATOR, country=cls.italy)
        cls.european = cls._user("ec.europe", Role.EUROPEAN_COORDINATOR)
        cls.expert = cls._user("expert", Role.EXPERT)
        cls.researcher = cls._user("researcher", Role.RESEARCHER)

    @classmethod
    def _user(cls, username: str, role: str, **scope: Any) -> Any:
        user = get_user_model().objects.create_user(username, password=PASSWORD)
        Membership.objects.create(user=user, role=role, **scope)
        return user

    @staticmethod
    def sign_in(client: Any, user: Any) -> None:
        """Log in as `user`, with a confirmed second factor when the role asks for one."""
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from partner.accounts.security import needs_second_factor

        client.force_login(user)
        if needs_second_factor(user):
            device, _ = TOTPDevice.objects.get_or_create(user=user, name="test", defaults={"confirmed": True})
            session = client.session
            session["otp_device_id"] = device.persistent_id
            session.save()

    @classmethod
    def register(
        cls, centre: Centre, given: str = "Giulia", family: str = "Rossi", case_status: str = "draft", **kwargs: Any
    ) -> TumourCase:
        """A case registered at `centre` as a draft, as the web registers it; with `case_status`, then
        put in that status directly (analyses count only submitted cases; the submission checks are
        tested on their own)."""
        forms = case_forms(**kwargs)
        identity = Identity(
            given,
            family,
            dt.date.fromisoformat(forms["registration"]["date_of_birth"]),
            forms["registration"]["sex"],
            centre.country.code,
        )
        case = create_case(
            dictionary=cls.dictionary,
            centre=centre,
            pseudonym=pseudonym(identity, settings.PSEUDONYM_KEY),
            forms=forms,
            identity=identity,
        )
        if case_status != case.status:
            TumourCase.objects.filter(pk=case.pk).update(status=case_status)
            case.status = case_status
        return case


class RegistryTestCase(RegistryStory, TestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        cls.build_story()


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


class BrowserTestCase(RegistryStory, StaticLiveServerTestCase):
    """The registry served live and driven by Debian's chromium, headless, through Playwright."""

    playwright: Any
    browser: Any
    page: Any

    @classmethod
    def setUpClass(cls) -> None:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # Playwright's sync API runs its own loop
        super().setUpClass()
        from playwright.sync_api import sync_playwright

        cls.playwright = sync_playwright().start()
        cls.browser = cls.playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )

    @classmethod
    def tearDownClass(cls) -> None:
        cls.browser.close()
        cls.playwright.stop()
        super().tearDownClass()

    def setUp(self) -> None:
        self.build_story()
        self.page = self.browser.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)

    def tearDown(self) -> None:
        self.page.close()

    def log_in(self, page: Any, user: Any, password: str = PASSWORD) -> None:
        """Sign in through the real log-in page."""
        page.goto(self.live_server_url + "/accounts/login/")
        page.fill('[name="username"]', user.username)
        page.fill('[name="password"]', password)
        with page.expect_navigation():
            page.click("main form button.primary")
