"""The public website in a real browser, in every language: each page answers, says its language,
passes the automated accessibility check (axe-core, injected from node_modules) with no serious
issue, and fits a phone's screen with its navigation reachable from the keyboard."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.test import override_settings

from partner.cases.models import Status, TumourCase
from partner.testing import CHROMIUM, BrowserTestCase
from partner.website.models import Guideline, GuidelineFile, NationalGroup, NewsItem

pytestmark = pytest.mark.browser

AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
LANGUAGES = [code for code, _name in settings.LANGUAGES]
PUBLIC = [
    "/",
    "/about/",
    "/tumours/",
    "/guidelines/",
    "/consultation/",
    "/groups/",
    "/news/",
    "/statistics/",
    "/dictionary/",
    "/accounts/login/",
]
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PHONE = {"width": 375, "height": 740}


@pytest.mark.skipif(
    not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
    reason="chromium is not installed (make test installs it)",
)
class PublicWebsiteAccessibility(BrowserTestCase):
    def setUp(self) -> None:
        super().setUp()
        media = tempfile.mkdtemp(prefix="partner-a11y-media-")
        self.addCleanup(shutil.rmtree, media, ignore_errors=True)
        media_settings = override_settings(MEDIA_ROOT=media)
        media_settings.enable()
        self.addCleanup(media_settings.disable)
        self.publish_content()

    def publish_content(self) -> None:
        """Something on every page: a guideline with its PDF, a national group, news and checked cases."""
        guideline = Guideline.objects.create(
            entity="ACC",
            title="Adrenocortical carcinoma in children and adolescents",
            version="1.0",
            status=Guideline.Status.PUBLISHED,
            date=dt.date(2026, 3, 1),
            summary="Surgery first; then mitotane.",
            updated_by=self.european,
        )
        item = GuidelineFile(
            guideline=guideline,
            label="full text",
            name="escp-acc.pdf",
            size=len(PDF),
            sha256="0" * 64,
            uploaded_by=self.european,
        )
        item.file.save("escp-acc.pdf", ContentFile(PDF))
        NationalGroup.objects.create(
            country=self.italy,
            name="TREP",
            description="The Italian rare paediatric tumours group.",
            website="https://example.org/trep",
            email="trep@example.org",
        )
        NewsItem.objects.create(
            title="The registry opens",
            body="First cases.\n\nMore to come.",
            published=dt.date(2026, 1, 15),
            visible=True,
            updated_by=self.european,
        )
        for i in range(7):
            self.register(self.padova, given=f"Child{i}", diagnosed=f"{2019 + i % 3}-03-10")
        for i in range(2):
            self.register(self.paris, given=f"Enfant{i}", morphology="8720/3", topography="C44.3")
        TumourCase.objects.update(status=Status.SUBMITTED)

    def visit(self, path: str) -> list[str]:
        """Open `path` on the reused page; returns the console errors it raised."""
        before = len(self.errors)
        response = self.page.goto(self.live_server_url + path)
        self.assertIsNotNone(response)
        self.assertEqual(response.status, 200, path)
        return self.errors[before:]

    def serious_violations(self) -> list[str]:
        results: dict[str, Any] = self.page.evaluate("axe.run(document, {resultTypes: ['violations']})")
        return [
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:5]]}"
            for v in results["violations"]
            if v["impact"] in ("serious", "critical")
        ]

    def choose_language(self, language: str) -> None:
        """Through the switcher in the header, as a visitor does."""
        self.visit("/about/")
        if self.page.locator("html").get_attribute("lang") != language:
            toggle = self.page.locator("[data-menu-toggle]")
            if toggle.is_visible():  # on a phone the switcher is in the folded menu
                toggle.click()
            with self.page.expect_navigation():
                self.page.select_option("#language", language)

    @pytest.mark.skipif(
        not AXE.exists() and not os.environ.get("CI"), reason="axe-core is not installed (make test installs it)"
    )
    def test_every_public_page_in_every_language_passes_the_accessibility_check(self) -> None:
        # The pages' policy refuses inline scripts, so axe-core goes in as an init script, which the policy
        # does not govern: every page opened from here on carries `axe`, and the policy stays as visitors get it.
        self.page.add_init_script(path=AXE)
        for language in LANGUAGES:
            self.choose_language(language)
            for path in PUBLIC:
                with self.subTest(language=language, path=path):
                    self.assertEqual(self.visit(path), [])
                    self.assertEqual(self.page.locator("html").get_attribute("lang"), language)
                    self.assertEqual(self.serious_violations(), [])
        self.assertEqual(self.page.locator(".lang select option[selected]").get_attribute("value"), "pl")

    def test_on_a_phone_no_page_scrolls_sideways_and_the_navigation_is_reached_with_the_tab_key(self) -> None:
        self.page.set_viewport_size(PHONE)
        for language in LANGUAGES:
            self.choose_language(language)
            for path in PUBLIC:
                with self.subTest(language=language, path=path):
                    self.assertEqual(self.visit(path), [])
                    width = self.page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
                    self.assertLessEqual(width[0], width[1], "the page scrolls sideways")
        self.page.goto(self.live_server_url + "/")
        links = self.page.eval_on_selector_all("header nav a", "links => links.map(a => a.href)")
        self.assertGreaterEqual(len(links), 10)
        reached: set[str] = set()
        for _press in range(len(links) + 10):
            self.page.keyboard.press("Tab")
            if self.page.evaluate("document.activeElement.getAttribute('aria-expanded') === 'false'"):
                self.page.keyboard.press("Enter")  # the folded menu, opened from the keyboard
            focused = self.page.evaluate(
                "(() => { const e = document.activeElement, r = e.getBoundingClientRect();"
                " return [e.href || '', r.left >= 0 && r.right <= innerWidth && r.width > 0]; })()"
            )
            if focused[0] in links:
                self.assertTrue(focused[1], f"{focused[0]} is focused outside the screen")
                reached.add(focused[0])
        self.assertEqual(sorted(set(links) - reached), [])
