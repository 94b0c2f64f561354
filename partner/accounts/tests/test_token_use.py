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


class UnknownTokenLimitTests(RegistryTestCase):
    def setUp(self) -> None:
        from django.core.cache import cache

        cache.clear()
        self.addCleanup(cache.clear)

    def test_an_address_that_sends_unknown_tokens_is_refused_for_a_minute(self):
        from django.test import override_settings

        _token, key = ApiToken.issue(self.dm_padova, "script")
        with override_settings(PARTNER_TOKEN_FAILURES_PER_MINUTE=3):
            for attempt in range(3):
                bad = {"authorization": f"Bearer prt_wrong{attempt}"}
                self.assertEqual(self.client.get("/api/cases", headers=bad).status_code, 401)
            refused = self.client.get("/api/cases", headers={"authorization": f"Bearer {key}"})
            self.assertEqual(refused.status_code, 429)
            self.assertIn("unknown token", refused.json()["detail"])
            other = self.client.get("/api/cases", headers={"authorization": f"Bearer {key}"}, REMOTE_ADDR="10.0.0.9")
            self.assertEqual(other.status_code, 200)
