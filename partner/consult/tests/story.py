"""A registry with an expert panel: the endocrine panel has experts in Italy, France and Germany."""

from __future__ import annotations

import io
import tempfile
from typing import Any

from django.test import override_settings
from PIL import Image

from partner.accounts.models import Country, Role
from partner.consult import services
from partner.consult.models import Consultation, PanelMember
from partner.testing import RegistryTestCase

QUESTION = "Adjuvant mitotane after complete resection of a 9 cm tumour with a Weiss score of 6?"


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


class TemporaryMedia:
    """Uploads and letters of the test class go to a folder of its own, removed after the class."""

    media: Any

    @classmethod
    def setUpClass(cls) -> None:
        cls.media = tempfile.TemporaryDirectory()
        cls.media_settings = override_settings(MEDIA_ROOT=cls.media.name)
        cls.media_settings.enable()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        cls.media_settings.disable()
        cls.media.cleanup()


class ConsultStory(TemporaryMedia, RegistryTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.germany = Country.objects.create(code="DE", name="Germany")
        cls.clinician = cls._user("clinician.padova", Role.CLINICIAN, centre=cls.padova)
        PanelMember.objects.create(user=cls.expert, panel="endocrine", country=cls.italy)
        cls.expert_fr = cls._user("expert.fr", Role.EXPERT)
        PanelMember.objects.create(user=cls.expert_fr, panel="endocrine", country=cls.france)
        cls.expert_de = cls._user("expert.de", Role.EXPERT)
        PanelMember.objects.create(user=cls.expert_de, panel="endocrine", country=cls.germany)
        cls.outsider = cls._user("expert.thoracic", Role.EXPERT)
        PanelMember.objects.create(user=cls.outsider, panel="thoracic", country=cls.germany)
        cls.case = cls.register(
            cls.padova,
            born="2012-03-04",
            diagnosed="2024-02-01",
            morphology="8370/3",
            topography="C74.0",
            treatment=[
                {
                    "line_type": "surgery",
                    "treatment_start_date": "2024-02-15",
                    "surgery_type": "resection_primary",
                    "resection_margin": "R0",
                }
            ],
        )
        for user in (cls.clinician, cls.expert, cls.expert_fr, cls.expert_de, cls.european):
            user.email = f"{user.username}@example.org"
            user.save()

    def request(self, **kwargs: Any) -> Consultation:
        return services.submit(self.case, self.clinician, question=QUESTION, **kwargs)

    def panel(self, consultation: Consultation) -> Consultation:
        services.assign(consultation, self.european, [self.expert, self.expert_fr, self.expert_de])
        consultation.refresh_from_db()
        return consultation
