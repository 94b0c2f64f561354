"""The identity columns that derive the pseudonym take only what the web would: a sex of the list, a real country."""

from partner.accounts.models import ApiToken
from partner.cases.models import Patient
from partner.interop.importing import import_cases
from partner.interop.tables import Table
from partner.testing import RegistryTestCase

COLUMNS = ["external_id", "centre", "given_names", "family_names", "date_of_birth", "sex", "country_of_birth"]
CODES = ["diagnosis_date", "morphology", "topography"]


class IdentityCodeTests(RegistryTestCase):
    def import_row(self, sex="female", country="IT"):
        cells = dict(
            zip(
                COLUMNS + CODES,
                ["N-1", "IT-PD", "Ada", "Neri", "2012-05-04", sex, country, "2024-02-10", "8370/3", "C74.0"],
                strict=True,
            )
        )
        return import_cases(Table("cases.csv", COLUMNS + CODES, [(2, cells)]), user=self.dm_padova, status="draft")

    def test_an_import_refuses_a_country_that_is_not_one_and_a_sex_off_the_list(self):
        for sex, country, column in (
            ("female", "UK", "country_of_birth"),
            ("female", "Italia", "country_of_birth"),
            ("femmina", "IT", "sex"),
        ):
            with self.subTest(sex=sex, country=country):
                result = self.import_row(sex, country)
                self.assertFalse(result.committed)
                self.assertEqual([(p.row, p.column) for p in result.errors], [(2, column)])
        self.assertFalse(Patient.objects.exists())
        self.assertTrue(self.import_row("female", "gb").committed)

    def test_the_api_refuses_a_country_that_is_not_one(self):
        _, key = ApiToken.issue(self.dm_padova, "test")
        body = {
            "identity": {
                "given_names": "Ada",
                "family_names": "Neri",
                "date_of_birth": "2012-05-04",
                "sex": "female",
                "country_of_birth": "UK",
            },
            "forms": {"diagnosis": {"diagnosis_date": "2024-02-10", "morphology": "8370/3", "topography": "C74.0"}},
        }
        response = self.client.post(
            "/api/cases", body, content_type="application/json", headers={"authorization": f"Bearer {key}"}
        )
        self.assertEqual(response.status_code, 422)
        self.assertEqual([e["field"] for e in response.json()["errors"]], ["country_of_birth"])
        self.assertFalse(Patient.objects.exists())
