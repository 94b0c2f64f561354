"""What the whole API refuses before any view reads it: text with a NUL character, which PostgreSQL cannot store."""

from __future__ import annotations

from typing import Any

from django.test import override_settings

from partner.accounts.models import ApiToken
from partner.api import api
from partner.quality.models import Query
from partner.testing import RegistryTestCase


class NulCharacterTests(RegistryTestCase):
    @classmethod
    def setUpTestData(cls) -> None:
        super().setUpTestData()
        cls.case = cls.register(cls.padova)
        cls.headers = {"authorization": f"Bearer {ApiToken.issue(cls.nc_italy, 'test')[1]}"}

    def raise_query(self, question: str) -> Any:
        body = {"case": self.case.pk, "field": "diagnosis.morphology", "question": question}
        return self.client.post("/api/quality/queries", body, content_type="application/json", headers=self.headers)

    def test_a_nul_character_in_the_query_string_the_path_or_the_body_is_refused_with_400(self) -> None:
        for response in (
            self.client.get("/api/cases?status=draft%00", headers=self.headers),
            self.client.get(f"/api/patients/{self.case.patient.pseudonym}%00", headers=self.headers),
            self.raise_query("Is it 8370/3?\x00"),
        ):
            self.assertEqual(response.status_code, 400)
            self.assertEqual(response.json(), {"detail": "text may not contain the NUL character (U+0000)"})
        self.assertFalse(Query.objects.exists())

    def test_an_escaped_backslash_before_u0000_is_plain_text(self) -> None:
        response = self.raise_query("Is the code \\u0000 a typing error?")
        self.assertEqual(response.status_code, 201, response.content)
        self.assertEqual(Query.objects.get().question, "Is the code \\u0000 a typing error?")

    def test_every_operation_documents_the_400(self) -> None:
        paths = api.get_openapi_schema(path_prefix="/api/")["paths"]
        responses = [operation["responses"] for operations in paths.values() for operation in operations.values()]
        self.assertGreater(len(responses), 40)
        self.assertTrue(all(400 in r for r in responses))

    @override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=100)
    def test_a_body_larger_than_the_registry_accepts_is_refused_with_413_in_json(self) -> None:
        response = self.raise_query("Is it 8370/3? " * 20)
        self.assertEqual(response.status_code, 413)
        self.assertEqual(response.json(), {"detail": "the request body is larger than this registry accepts"})
        self.assertFalse(Query.objects.exists())
