import datetime as dt

from django.urls import reverse

from partner.cases.models import FormRecord
from partner.testing import RegistryTestCase


class ReconsentListTests(RegistryTestCase):
    def _consent(self, case, **values):
        record, _ = FormRecord.objects.get_or_create(
            case=case, form=case.dictionary_version.forms.get(code="consent"), number=1
        )
        record.values = values
        record.save()

    def test_it_lists_adults_in_scope_without_their_own_consent(self):
        today = dt.date.today()
        adult = self.register(
            self.padova, given="Ada", born=f"{today.year - 20}-01-15", diagnosed=f"{today.year - 8}-03-01"
        )
        reconsented = self.register(
            self.padova, given="Bea", born=f"{today.year - 19}-02-10", diagnosed=f"{today.year - 9}-03-01"
        )
        child = self.register(
            self.padova, given="Cleo", born=f"{today.year - 10}-01-01", diagnosed=f"{today.year - 2}-03-01"
        )
        parisian = self.register(
            self.paris, given="Dora", born=f"{today.year - 20}-01-15", diagnosed=f"{today.year - 8}-03-01"
        )
        self._consent(adult, consent_reuse="given", consent_given_by="parents", reconsent_at_18="not_reachable")
        self._consent(reconsented, consent_reuse="given", consent_given_by="parents", reconsent_at_18="obtained")
        self.sign_in(self.client, self.dm_padova)
        rows = self.client.get(reverse("cases:reconsent")).context["rows"]
        self.assertEqual([r["case"] for r in rows], [adult])
        self.assertEqual(rows[0]["turned_18"], dt.date(today.year - 2, 1, 15))
        self.assertNotIn(child, [r["case"] for r in rows])
        self.assertNotIn(parisian, [r["case"] for r in rows])
