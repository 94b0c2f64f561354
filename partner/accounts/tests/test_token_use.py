"""A token's last use is kept to the minute, without a write on every request."""

import datetime as dt

from django.utils import timezone

from partner.accounts.models import ApiToken
from partner.testing import RegistryTestCase


class LastUsedTests(RegistryTestCase):
    def test_the_last_use_is_recorded_once_a_minute(self):
        token, key = ApiToken.issue(self.dm_padova, "script")
        headers = {"authorization": f"Bearer {key}"}
        self.assertEqual(self.client.get("/api/cases", headers=headers).status_code, 200)
        token.refresh_from_db()
        first = token.last_used
        self.assertIsNotNone(first)
        self.client.get("/api/cases", headers=headers)
        token.refresh_from_db()
        self.assertEqual(token.last_used, first)
        ApiToken.objects.filter(pk=token.pk).update(last_used=timezone.now() - dt.timedelta(minutes=2))
        self.client.get("/api/cases", headers=headers)
        token.refresh_from_db()
        self.assertGreater(token.last_used, timezone.now() - dt.timedelta(seconds=30))
