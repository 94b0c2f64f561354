"""Log-in: strong passwords and a second factor for coordinators (throttling: test_throttle.py)."""

import re

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.test import override_settings
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from partner.testing import RegistryTestCase

PASSWORD = "correct horse battery staple"


def code(device: TOTPDevice, drift: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift):06d}"


class PasswordTests(RegistryTestCase):
    def test_short_common_or_numeric_passwords_are_refused(self):
        for weak in ("padova2024", "password1234", "123456789012"):
            with self.subTest(weak=weak), self.assertRaises(ValidationError):
                validate_password(weak, self.dm_padova)
        validate_password("quiet-river-under-the-Euganean-hills", self.dm_padova)


@override_settings(OTP_TOTP_THROTTLE_FACTOR=0)  # no waiting between attempts in the test
class SecondFactorTests(RegistryTestCase):
    def _password_login(self, username):
        response = self.client.post("/accounts/login/", {"username": username, "password": PASSWORD})
        self.assertEqual(response.status_code, 302)

    def test_a_data_manager_needs_no_second_factor(self):
        self._password_login("dm.padova")
        self.assertEqual(self.client.get("/cases/").status_code, 200)

    def test_a_coordinator_sets_up_an_authenticator_before_seeing_any_case(self):
        self._password_login("nc.italy")
        response = self.client.get("/cases/")
        self.assertRedirects(response, "/accounts/second-factor/?next=%2Fcases%2F", fetch_redirect_response=False)
        response = self.client.get(response["Location"], follow=True)
        self.assertEqual(response.redirect_chain[-1][0], "/accounts/second-factor/setup/?next=/cases/")
        secret = re.search(r"<code>([A-Z2-7=]+)</code>", response.content.decode()).group(1)
        self.assertContains(response, "<svg")
        device = TOTPDevice.objects.get(user=self.nc_italy)
        self.assertFalse(device.confirmed)
        self.assertEqual(secret.rstrip("="), __import__("base64").b32encode(device.bin_key).decode().rstrip("="))

        response = self.client.post("/accounts/second-factor/setup/", {"token": "000000", "next": "/cases/"})
        self.assertContains(response, "not valid")
        response = self.client.post("/accounts/second-factor/setup/", {"token": code(device), "next": "/cases/"})
        self.assertRedirects(response, "/cases/", fetch_redirect_response=False)
        device.refresh_from_db()
        self.assertTrue(device.confirmed)
        self.assertEqual(self.client.get("/cases/").status_code, 200)

    def test_a_coordinator_with_an_authenticator_enters_its_code_at_each_login(self):
        device = TOTPDevice.objects.create(user=self.european, name="phone", confirmed=True)
        self._password_login("ec.europe")
        self.assertEqual(self.client.get("/cases/").status_code, 302)
        response = self.client.post("/accounts/second-factor/", {"token": "123", "next": "/cases/"})
        self.assertContains(response, "not valid")
        self.assertEqual(self.client.get("/cases/").status_code, 302)
        response = self.client.post("/accounts/second-factor/", {"token": code(device), "next": "/cases/"})
        self.assertRedirects(response, "/cases/", fetch_redirect_response=False)
        self.assertEqual(self.client.get("/cases/").status_code, 200)

    def test_next_cannot_send_the_user_to_another_site(self):
        device = TOTPDevice.objects.create(user=self.european, name="phone", confirmed=True)
        self._password_login("ec.europe")
        response = self.client.post(
            "/accounts/second-factor/", {"token": code(device), "next": "https://evil.example/"}
        )
        self.assertRedirects(response, "/work/", fetch_redirect_response=False)
