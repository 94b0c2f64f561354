"""Log-in throttling slows a guesser without locking the real user out: failures count per user name and
address together, the wait after the limit doubles with each further failure, and the user is told of
the failures at their next log-in."""

from __future__ import annotations

import datetime as dt

from axes.models import AccessAttempt
from django.test import SimpleTestCase, override_settings
from django.utils import timezone

from partner.accounts.throttle import wait_after
from partner.testing import PASSWORD, RegistryTestCase

GUESSER = "203.0.113.9"
USER_DESK = "198.51.100.7"


class WaitTests(SimpleTestCase):
    @override_settings(AXES_FAILURE_LIMIT=5, PARTNER_LOGIN_FIRST_WAIT_MINUTES=1, PARTNER_LOGIN_LONGEST_WAIT_MINUTES=60)
    def test_the_wait_starts_at_the_limit_doubles_with_each_failure_and_stops_at_the_longest(self) -> None:
        minutes = [wait_after(n) / dt.timedelta(minutes=1) for n in (0, 4, 5, 6, 7, 10, 11, 10_000)]
        self.assertEqual(minutes, [0, 0, 1, 2, 4, 32, 60, 60])


@override_settings(AXES_FAILURE_LIMIT=3)
class ThrottleTests(RegistryTestCase):
    def _login(self, password: str, address: str = USER_DESK, username: str = "dm.padova"):
        return self.client.post("/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address)

    def _wait_passes(self, minutes: float) -> None:
        """As if the last failure had come this many minutes earlier."""
        AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=minutes))

    def test_after_the_limit_the_name_waits_at_that_address_even_with_the_right_password(self) -> None:
        for _ in range(2):
            self.assertEqual(self._login("wrong").status_code, 200)
        self.assertContains(self._login("wrong"), "Wait before trying again", status_code=429)
        response = self._login(PASSWORD)
        self.assertContains(response, "Try again in a minute", status_code=429)
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_a_guesser_elsewhere_does_not_hold_the_user_back(self) -> None:
        for _ in range(10):
            self._login("wrong", address=GUESSER)
        self.assertEqual(self._login(PASSWORD, address=GUESSER).status_code, 429)
        self.assertRedirects(self._login(PASSWORD), "/work/", fetch_redirect_response=False)

    def test_once_the_wait_is_over_one_more_failure_starts_a_wait_twice_as_long(self) -> None:
        for _ in range(3):
            self._login("wrong")
        self._wait_passes(1.5)
        self.assertContains(self._login("wrong"), "Try again in 2 minutes", status_code=429)
        self._wait_passes(1.5)
        self.assertEqual(self._login(PASSWORD).status_code, 429)
        self._wait_passes(2.5)
        self.assertRedirects(self._login(PASSWORD), "/work/", fetch_redirect_response=False)

    def test_a_try_during_the_wait_neither_counts_nor_lengthens_it(self) -> None:
        for _ in range(3):
            self._login("wrong")
        for _ in range(5):
            self.assertEqual(self._login("wrong").status_code, 429)
        self.assertEqual(AccessAttempt.objects.get().failures_since_start, 3)
        self._wait_passes(1.5)
        self.assertRedirects(self._login(PASSWORD), "/work/", fetch_redirect_response=False)

    def test_a_success_before_the_limit_forgets_the_failures_at_that_address(self) -> None:
        self._login("wrong")
        self._login("wrong")
        self.assertRedirects(self._login(PASSWORD), "/work/", fetch_redirect_response=False)
        self.client.logout()
        self._login("wrong")
        self._login("wrong")
        self.assertRedirects(self._login(PASSWORD), "/work/", fetch_redirect_response=False)

    def test_another_user_is_not_held_back_by_someone_elses_failures(self) -> None:
        for _ in range(4):
            self._login("wrong")
        self.assertRedirects(self._login(PASSWORD, username="dm.paris"), "/work/", fetch_redirect_response=False)

    def test_failures_are_forgotten_a_day_after_the_last(self) -> None:
        for _ in range(3):
            self._login("wrong")
        self._wait_passes(24 * 60 + 1)
        self._login("wrong")
        self.assertEqual(AccessAttempt.objects.get().failures_since_start, 1)


class FailedLoginNoticeTests(RegistryTestCase):
    def _login(self, password: str, address: str = USER_DESK):
        return self.client.post(
            "/accounts/login/", {"username": "dm.padova", "password": password}, REMOTE_ADDR=address, follow=True
        )

    def test_the_user_is_told_of_the_failures_since_their_last_log_in_and_where_the_last_came_from(self) -> None:
        self._login(PASSWORD)
        self.client.logout()
        self._login("wrong", address="192.0.2.1")
        self._login("wrong", address=GUESSER)
        response = self._login(PASSWORD)
        self.assertContains(response, "There were 2 failed log-ins with your user name since your last log-in")
        self.assertContains(response, f"from {GUESSER}")
        self.client.logout()
        self.assertNotContains(self._login(PASSWORD), "failed log-in")

    def test_a_first_log_in_after_one_failure_says_so(self) -> None:
        self._login("wrong", address=GUESSER)
        response = self._login(PASSWORD)
        self.assertContains(response, "There was 1 failed log-in with your user name since your last log-in")
