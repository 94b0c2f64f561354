"""Personal API tokens from the web: created with the key shown once, listed and revoked by their owner."""

import re

from django.test import Client

from partner.accounts.models import ApiToken
from partner.testing import RegistryTestCase

URL = "/accounts/tokens/"


def shown_key(response) -> str | None:
    found = re.search(r'<code class="secret">(prt_[\w-]+)</code>', response.content.decode())
    return found.group(1) if found else None


def api_status(key: str) -> int:
    """The answer of the API to the key alone, without any web session."""
    return Client().get("/api/cases", headers={"authorization": f"Bearer {key}"}).status_code


class CreateTokenTests(RegistryTestCase):
    def setUp(self):
        self.sign_in(self.client, self.dm_padova)

    def test_it_shows_the_new_key_once_and_the_key_works_on_the_api(self):
        response = self.client.post(URL, {"name": "R on my laptop"})
        self.assertContains(response, "cannot be shown again")
        key = shown_key(response)
        self.assertIsNotNone(key)
        token = ApiToken.objects.get(user=self.dm_padova)
        self.assertEqual((token.name, token.digest), ("R on my laptop", ApiToken.digest_of(key)))
        self.assertEqual(api_status(key), 200)

        reloaded = self.client.get(URL)
        self.assertContains(reloaded, "R on my laptop")
        self.assertContains(reloaded, f"{token.hint}…")
        self.assertNotContains(reloaded, key)
        self.assertIsNone(shown_key(reloaded))

    def test_the_key_is_kept_in_no_session_message_or_cache(self):
        response = self.client.post(URL, {"name": "nightly export"})
        key = shown_key(response)
        self.assertIn("no-store", response["Cache-Control"])
        self.assertNotIn(key, response.get("Location", ""))
        self.assertNotIn(key, str(dict(self.client.session)))
        self.assertNotIn(key, self.client.cookies.output())

    def test_a_blank_name_is_refused_with_a_clear_error(self):
        response = self.client.post(URL, {"name": "   "})
        self.assertContains(response, "Give the token a name")
        self.assertIsNone(shown_key(response))
        self.assertFalse(ApiToken.objects.exists())

    def test_a_name_longer_than_80_characters_is_refused(self):
        response = self.client.post(URL, {"name": "x" * 81})
        self.assertContains(response, "at most 80 characters")
        self.assertFalse(ApiToken.objects.exists())


class ListTokenTests(RegistryTestCase):
    def test_a_user_sees_only_their_own_tokens(self):
        ApiToken.issue(self.dm_padova, "padova analysis")
        ApiToken.issue(self.dm_paris, "paris export")
        self.sign_in(self.client, self.dm_padova)
        response = self.client.get(URL)
        self.assertContains(response, "padova analysis")
        self.assertNotContains(response, "paris export")

    def test_the_nav_links_to_the_tokens_for_a_signed_in_user_only(self):
        self.assertNotContains(self.client.get("/"), f'href="{URL}"')
        self.sign_in(self.client, self.dm_padova)
        self.assertContains(self.client.get("/"), f'href="{URL}"')

    def test_an_anonymous_visitor_is_sent_to_log_in(self):
        response = self.client.get(URL)
        self.assertRedirects(response, f"/accounts/login/?next={URL}", fetch_redirect_response=False)
        response = self.client.post(URL, {"name": "sneaky"})
        self.assertRedirects(response, f"/accounts/login/?next={URL}", fetch_redirect_response=False)
        self.assertFalse(ApiToken.objects.exists())

    def test_a_coordinator_without_the_second_factor_cannot_create_a_token(self):
        self.client.force_login(self.nc_italy)
        response = self.client.post(URL, {"name": "skip the authenticator"})
        self.assertRedirects(
            response, "/accounts/second-factor/?next=%2Faccounts%2Ftokens%2F", fetch_redirect_response=False
        )
        self.assertFalse(ApiToken.objects.exists())

    def test_a_coordinator_with_the_second_factor_can_create_a_token(self):
        self.sign_in(self.client, self.nc_italy)
        key = shown_key(self.client.post(URL, {"name": "national report"}))
        self.assertEqual(api_status(key), 200)


class RevokeTokenTests(RegistryTestCase):
    def test_a_revoked_token_is_refused_by_the_api(self):
        self.sign_in(self.client, self.dm_padova)
        key = shown_key(self.client.post(URL, {"name": "old laptop"}))
        token = ApiToken.objects.get(user=self.dm_padova)
        self.assertEqual(api_status(key), 200)

        response = self.client.post(f"{URL}{token.pk}/revoke/", follow=True)
        self.assertContains(response, "is revoked")
        self.assertContains(response, "revoked on")
        token.refresh_from_db()
        self.assertIsNotNone(token.revoked)
        self.assertEqual(api_status(key), 401)

    def test_revoking_someone_elses_token_is_not_found_and_leaves_it_active(self):
        token, key = ApiToken.issue(self.dm_paris, "paris export")
        self.sign_in(self.client, self.dm_padova)
        self.assertEqual(self.client.post(f"{URL}{token.pk}/revoke/").status_code, 404)
        token.refresh_from_db()
        self.assertIsNone(token.revoked)
        self.assertEqual(api_status(key), 200)

    def test_revoking_needs_a_post(self):
        token, _ = ApiToken.issue(self.dm_padova, "laptop")
        self.sign_in(self.client, self.dm_padova)
        self.assertEqual(self.client.get(f"{URL}{token.pk}/revoke/").status_code, 405)
        token.refresh_from_db()
        self.assertIsNone(token.revoked)

    def test_revoking_needs_the_csrf_token(self):
        token, _ = ApiToken.issue(self.dm_padova, "laptop")
        client = Client(enforce_csrf_checks=True)
        self.sign_in(client, self.dm_padova)
        self.assertEqual(client.post(f"{URL}{token.pk}/revoke/").status_code, 403)
        token.refresh_from_db()
        self.assertIsNone(token.revoked)
