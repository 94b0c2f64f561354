"""The panel's letter is written in the language chosen with the request, addressed to the clinician by
name, with the summary's values written as the pages write them in that language."""

from __future__ import annotations

import io
import json
from typing import Any

import pdfplumber
from django.test import Client
from django.utils import formats, timezone, translation

from partner.accounts.models import ApiToken
from partner.consult import services
from partner.consult.letter import render_letter
from partner.consult.models import Consultation
from partner.consult.summary import summary_rows

from .story import QUESTION, ConsultStory


def text_of(pdf: bytes) -> str:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return "\n".join(page.extract_text() for page in document.pages)


class LetterLanguageStory(ConsultStory):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.acc_case = cls.register(
            cls.padova,
            given="Anna",
            born="2013-01-02",
            diagnosed="2024-05-06",
            acc={"acc_tumour_weight_g": 120.0, "acc_virilisation": True, "acc_hormones_normalised": "yes"},
        )

    def sent(self, **kwargs: Any) -> Consultation:
        """A request on the ACC case, agreed by the panel and sent: its letter is stored."""
        consultation = services.submit(self.acc_case, self.clinician, question=QUESTION, **kwargs)
        services.assign(consultation, self.european, [self.expert, self.expert_fr, self.expert_de])
        services.draft(consultation, self.expert_fr, "Mitotane for two years.")
        for expert in (self.expert, self.expert_fr, self.expert_de):
            services.vote(consultation, expert, "agree")
        consultation.refresh_from_db()
        return consultation

    def stored_letter(self, consultation: Consultation) -> str:
        with consultation.recommendation.letter.open("rb") as handle:
            return text_of(handle.read())


class TheLetterInTheRequestersLanguage(LetterLanguageStory):
    def test_a_request_asked_in_italian_gets_its_letter_in_italian_whatever_language_sends_it(self) -> None:
        consultation = self.sent(language="it")  # the last vote is cast on an English page
        self.assertEqual(consultation.language, "it")
        text = self.stored_letter(consultation)
        self.assertIn("Raccomandazione del panel di esperti", text)
        self.assertIn("Il quesito", text)
        self.assertNotIn("Recommendation of the expert panel", text)
        with translation.override("it"):
            # the day in the registry's time zone, as the letter dates it (near midnight UTC differs)
            self.assertIn(formats.date_format(timezone.localdate(consultation.sent_at), "DATE_FORMAT"), text)

    def test_without_a_choice_the_letter_is_in_the_language_of_the_requesters_page(self) -> None:
        with translation.override("fr"):
            consultation = services.submit(self.acc_case, self.clinician, question=QUESTION)
        self.assertEqual(consultation.language, "fr")

    def test_an_unknown_language_is_refused(self) -> None:
        from django.core.exceptions import ValidationError

        with self.assertRaisesMessage(ValidationError, "Choose the language of the letter."):
            services.submit(self.acc_case, self.clinician, question=QUESTION, language="xx")
        self.assertFalse(Consultation.objects.exists())

    def test_the_experts_copy_is_in_the_language_of_the_experts_page(self) -> None:
        consultation = self.sent(language="it")
        client = Client()
        self.sign_in(client, self.expert_de)
        client.cookies.load({"django_language": "de"})
        response = client.get(f"/consult/{consultation.pk}/letter.pdf")
        self.assertEqual(response.status_code, 200)
        with translation.override("de"):
            heading = translation.gettext("Recommendation of the expert panel")
        self.assertIn(heading, text_of(response.content))


class TheAddressee(LetterLanguageStory):
    def test_the_letter_is_addressed_to_the_clinician_by_name_and_centre(self) -> None:
        self.clinician.first_name, self.clinician.last_name = "Giulia", "Bianchi"
        self.clinician.save()
        text = self.stored_letter(self.sent(language="en"))
        self.assertIn(f"Giulia Bianchi, {self.padova}", text)
        self.assertNotIn("clinician.padova", text)

    def test_a_clinician_without_a_name_is_addressed_by_user_name(self) -> None:
        text = self.stored_letter(self.sent(language="en"))
        self.assertIn(f"clinician.padova, {self.padova}", text)


class TheValuesAsThePagesWriteThem(LetterLanguageStory):
    def value(self, consultation: Consultation, field: str, language: str) -> str:
        label = next(f for f in self.dictionary.form_by_code["acc"].fields if f.code == field).labels.get(language)
        rows = summary_rows(consultation.summary, language)
        return next(value for s in rows for row in s["rows"] for shown, value in row if shown == label)

    def test_a_decimal_has_the_decimal_comma_of_an_italian_letter(self) -> None:
        consultation = self.sent(language="it")
        text = self.stored_letter(consultation)
        self.assertIn("120,0 g", text)
        self.assertNotIn("120.0 g", text)
        self.assertIn("120.0 g", text_of(render_letter(consultation, "en")))

    def test_yes_is_written_one_way_for_a_boolean_and_for_a_yes_or_no_choice(self) -> None:
        consultation = self.sent(language="it")
        for language in ("en", "it", "de"):
            boolean = self.value(consultation, "acc_virilisation", language)
            choice = self.value(consultation, "acc_hormones_normalised", language)
            with translation.override(language):
                self.assertEqual(boolean, translation.gettext("Yes"), language)
            self.assertEqual(choice, boolean, language)


class TheCountryOfResidence(LetterLanguageStory):
    def test_it_is_named_in_the_letters_language_never_by_its_code(self) -> None:
        from partner.consult.summary import _display

        field = next(f for f in self.dictionary.form_by_code["registration"].fields if f.code == "country_of_residence")
        self.assertEqual(_display(field, "IT", "it"), "Italia")
        with translation.override("pl"):
            self.assertEqual(_display(field, "DE", "pl"), "Niemcy")


class TheRequestForm(LetterLanguageStory):
    def test_it_offers_the_language_of_the_page_and_keeps_the_one_chosen(self) -> None:
        client = Client()
        self.sign_in(client, self.clinician)
        client.cookies.load({"django_language": "it"})
        page = client.get(f"/consult/new/?case={self.acc_case.pk}").content.decode()
        self.assertRegex(page, r'<option value="it" selected>Italiano</option>')
        response = client.post(
            "/consult/new/", {"case": self.acc_case.pk, "question": QUESTION, "urgency": "routine", "language": "pl"}
        )
        self.assertEqual(response.status_code, 302)
        self.assertEqual(Consultation.objects.get().language, "pl")


class TheApiInput(LetterLanguageStory):
    def post(self, body: dict[str, Any], language: str = "en") -> Any:
        token = ApiToken.issue(self.clinician, "test")[1]
        return Client().post(
            "/api/consultations",
            json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
            HTTP_ACCEPT_LANGUAGE=language,
        )

    def test_the_api_takes_the_language_of_the_letter_and_defaults_to_its_own(self) -> None:
        response = self.post({"case": self.acc_case.pk, "question": QUESTION, "language": "de"})
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(Consultation.objects.get(pk=response.json()["id"]).language, "de")
        response = self.post({"case": self.acc_case.pk, "question": QUESTION}, language="fr")
        self.assertEqual(Consultation.objects.get(pk=response.json()["id"]).language, "fr")
        self.assertEqual(self.post({"case": self.acc_case.pk, "question": QUESTION, "language": "xx"}).status_code, 422)
