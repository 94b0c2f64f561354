"""The public pages: open to all, in every language; what coordinators manage; what statistics hide."""

from __future__ import annotations

import datetime as dt
import tempfile

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from partner.cases.models import Status, TumourCase
from partner.testing import RegistryTestCase
from partner.website.models import Guideline, GuidelineFile, NationalGroup, NewsItem
from partner.website.statistics import breakdowns

PUBLIC = ["/", "/about/", "/tumours/", "/guidelines/", "/consultation/", "/groups/", "/news/", "/statistics/"]
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


class PublicPages(RegistryTestCase):
    def test_every_page_opens_without_logging_in_in_each_language(self) -> None:
        for language in ("en", "it", "fr", "de", "pl"):
            self.client.cookies.load({"django_language": language})
            for path in PUBLIC:
                with self.subTest(language=language, path=path):
                    response = self.client.get(path)
                    self.assertEqual(response.status_code, 200)
                    self.assertContains(response, f'<html lang="{language}">')

    def test_the_tumour_list_comes_from_the_dictionary_with_its_descriptions(self) -> None:
        response = self.client.get("/tumours/")
        acc = self.dictionary.entity_by_code["ACC"]
        self.assertContains(response, acc.names.en)
        self.assertContains(response, acc.description.en[:40])
        self.assertEqual(response.content.decode().count("<h2"), len(self.dictionary.entities))


class Guidelines(RegistryTestCase):
    def guideline(self, status: str, **values: object) -> Guideline:
        return Guideline.objects.create(
            entity="ACC",
            title="Adrenocortical carcinoma in children",
            version="1.0",
            status=status,
            date=dt.date(2026, 3, 1),
            updated_by=self.european,
            **values,
        )

    def test_visitors_see_published_and_consultation_documents_never_drafts(self) -> None:
        self.guideline("published")
        self.guideline("draft", language="it")
        self.guideline("consultation", language="fr")
        page = self.client.get("/guidelines/?entity=ACC").content.decode()
        self.assertEqual(page.count("<article"), 2)
        self.assertNotIn('lang="it"', page)
        self.assertEqual(self.client.get("/guidelines/?entity=NOPE").status_code, 404)
        self.sign_in(self.client, self.european)
        self.assertEqual(self.client.get("/guidelines/").content.decode().count("<article"), 3)

    def test_a_coordinator_publishes_a_guideline_with_its_pdf_and_the_history_keeps_it(self) -> None:
        with tempfile.TemporaryDirectory() as media, override_settings(MEDIA_ROOT=media):
            self.sign_in(self.client, self.dm_padova)
            self.assertEqual(self.client.get("/manage/guideline/new/").status_code, 403)
            self.sign_in(self.client, self.nc_italy)
            data = {
                "entity": "NPC",
                "title": "Nasopharyngeal carcinoma",
                "language": "en",
                "version": "2.0",
                "status": "published",
                "date": "2026-05-05",
                "summary": "Induction chemotherapy, then",
            }
            self.assertEqual(self.client.post("/manage/guideline/new/", data).status_code, 302)
            guideline = Guideline.objects.get()
            self.assertEqual(guideline.updated_by, self.nc_italy)
            fake = SimpleUploadedFile("escp.pdf", b"\x89PNG\r\n\x1a\n" + bytes(40))
            self.client.post(f"/guidelines/{guideline.pk}/files/", {"file": fake, "label": "full text"})
            self.assertFalse(GuidelineFile.objects.exists())
            real = SimpleUploadedFile("escp.pdf", PDF)
            self.client.post(f"/guidelines/{guideline.pk}/files/", {"file": real, "label": "full text"})
            item = GuidelineFile.objects.get()
            self.client.logout()
            response = self.client.get(f"/guidelines/{guideline.pk}/files/{item.pk}/")
            self.assertEqual(response["Content-Type"], "application/pdf")
            self.assertEqual(response["X-Content-Type-Options"], "nosniff")
            self.assertTrue(response["Content-Disposition"].startswith("attachment"))
            self.assertEqual(response.content, PDF)
        self.assertEqual(guideline.history.count(), 1)
        self.assertEqual(guideline.history.first().history_user, self.nc_italy)

    def test_a_draft_file_is_not_public(self) -> None:
        guideline = self.guideline("draft")
        with tempfile.TemporaryDirectory() as media, override_settings(MEDIA_ROOT=media):
            from django.core.files.base import ContentFile

            item = GuidelineFile(
                guideline=guideline, label="x", name="x.pdf", size=len(PDF), sha256="0" * 64, uploaded_by=self.european
            )
            item.file.save("x.pdf", ContentFile(PDF))
            self.assertEqual(self.client.get(f"/guidelines/{guideline.pk}/files/{item.pk}/").status_code, 404)


class GroupsAndNews(RegistryTestCase):
    def test_hidden_news_is_for_coordinators_only(self) -> None:
        shown = NewsItem.objects.create(
            title="Registry opens",
            body="One.\n\nTwo.",
            published=dt.date(2026, 1, 1),
            visible=True,
            updated_by=self.european,
        )
        hidden = NewsItem.objects.create(
            title="Embargoed", body="x", published=dt.date(2026, 2, 1), updated_by=self.european
        )
        page = self.client.get("/news/").content.decode()
        self.assertIn("Registry opens", page)
        self.assertNotIn("Embargoed", page)
        self.assertEqual(self.client.get(f"/news/{hidden.pk}/").status_code, 404)
        self.assertContains(self.client.get(f"/news/{shown.pk}/"), "<p>Two.</p>")

    def test_a_group_shows_its_contacts(self) -> None:
        NationalGroup.objects.create(
            country=self.italy, name="TREP", email="trep@example.org", website="https://example.org/trep"
        )
        page = self.client.get("/groups/")
        self.assertContains(page, 'href="mailto:trep@example.org"')
        self.assertContains(page, "Italy")


class PublicStatistics(RegistryTestCase):
    def test_drafts_and_withdrawn_cases_are_not_counted(self) -> None:
        for i in range(7):
            case = self.register(self.padova, given=f"N{i}", morphology="8370/3", topography="C74.0")
            TumourCase.objects.filter(pk=case.pk).update(status=Status.SUBMITTED if i < 6 else Status.DRAFT)
        tables = {t.key: t for t in breakdowns("en")}
        # 6 cases, changed by at most 2 by their cell key; the same set, so the same number everywhere
        [(name, shown)] = tables["entity"].rows
        self.assertEqual(name, self.dictionary.entity_by_code["ACC"].names.en)
        self.assertLessEqual(abs(shown - 6), 2)
        self.assertEqual(tables["country"].rows, [("Italy", shown)])
        self.assertEqual(tables["country"].total, shown)
        self.assertIn("<svg", tables["year"].svg)
        page = self.client.get("/statistics/").content.decode()
        self.assertIn("<svg", page)
        home = self.client.get("/")
        self.assertEqual((home.context["public"], home.context["case_count"]), (True, shown))
        self.sign_in(self.client, self.dm_padova)  # a member sees the work of their scope, drafts included
        self.assertLessEqual(abs(self.client.get("/").context["case_count"] - 7), 2)
        self.sign_in(self.client, self.nc_italy)  # a coordinator's figures are exact
        self.assertEqual(self.client.get("/").context["case_count"], 7)
