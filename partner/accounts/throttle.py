"""Log-in throttling that slows a password guesser without locking the real user out.

django-axes records the failures per user name and client address (settings.AXES_LOCKOUT_PARAMETERS),
so someone guessing from elsewhere never holds the user back at their own address. After
AXES_FAILURE_LIMIT failures the name waits at that address before its next try: a minute at first,
then twice as long after each further failure, up to PARTNER_LOGIN_LONGEST_WAIT_MINUTES. Failures
are remembered for a day after the last one (AXES_COOLOFF_TIME); a success at that address forgets them.

At the next successful log-in the user is told how many failures there were since the one before,
and when and from where the last came.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.db.models import Max, Sum
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def wait_after(failures: int) -> dt.timedelta:
    """How long a user name waits at an address after this many failures there in a row."""
    if failures < settings.AXES_FAILURE_LIMIT:
        return dt.timedelta(0)
    doublings = min(failures - settings.AXES_FAILURE_LIMIT, 20)
    first = dt.timedelta(minutes=settings.PARTNER_LOGIN_FIRST_WAIT_MINUTES)
    return min(first * 2**doublings, dt.timedelta(minutes=settings.PARTNER_LOGIN_LONGEST_WAIT_MINUTES))


class ThrottlingHandler(AxesDatabaseHandler):
    """axes' own handler, except that a name and address past the limit are held back only until the
    wait after their last failure has passed; the failures are still counted, so the next wait is longer."""

    def _failures(self, request: HttpRequest, credentials: dict | None) -> tuple[int, dt.datetime | None]:
        failures, last = 0, None
        for attempts in self.get_user_attempts(request, credentials):
            found = attempts.aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            if (found["failures"] or 0) > failures:
                failures, last = found["failures"], found["last"]
        return failures, last

    def get_failures(self, request: HttpRequest, credentials: dict | None = None) -> int:
        failures, last = self._failures(request, credentials)
        over = last is not None and last + wait_after(failures) <= request.axes_attempt_time  # type: ignore[attr-defined]
        if failures >= settings.AXES_FAILURE_LIMIT and over:
            return 0  # the wait is over: one more try, whose failure starts a longer wait
        return failures

    def held_until(self, request: HttpRequest, credentials: dict | None = None) -> dt.datetime:
        failures, last = self._failures(request, credentials)
        return (last or timezone.now()) + wait_after(failures)


def throttled(request: HttpRequest, original_response: Any = None, credentials: dict | None = None) -> HttpResponse:
    """The answer to a log-in while its name is held back at this address (settings.AXES_LOCKOUT_CALLABLE)."""
    until = ThrottlingHandler().held_until(request, credentials)
    context = {
        "until": until,
        "minutes": max(1, round((until - timezone.now()).total_seconds() / 60)),
        "username": get_client_username(request, credentials) or "",
    }
    return render(request, "accounts/login_throttled.html", context, status=429)


@receiver(user_logged_in, dispatch_uid="partner-failed-logins-notice")
def tell_of_failed_logins(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Connected after axes' own receiver (partner.accounts comes after axes in INSTALLED_APPS), so the
    log-in being made is already in axes' AccessLog, stamped after the request's attempt time."""
    if request is None:
        return
    username = user.get_username()
    now = getattr(request, "axes_attempt_time", None) or timezone.now()
    previous = AccessLog.objects.filter(username=username, attempt_time__lt=now).order_by("-attempt_time").first()
    failures = AccessFailureLog.objects.filter(username=username, attempt_time__lt=now)
    if previous is not None:
        failures = failures.filter(attempt_time__gt=previous.attempt_time)
    last = failures.order_by("-attempt_time").first()
    if last is None:
        return
    count = failures.count()
    text = ngettext(
        "There was %(count)d failed log-in with your user name since your last log-in, on %(when)s from "
        "%(address)s. If it was not you, tell your coordinator.",
        "There were %(count)d failed log-ins with your user name since your last log-in, the last on "
        "%(when)s from %(address)s. If they were not yours, tell your coordinator.",
        count,
    ) % {
        "count": count,
        "when": date_format(timezone.localtime(last.attempt_time), "DATETIME_FORMAT"),
        "address": last.ip_address or _("an unknown address"),
    }
    messages.warning(request, text, fail_silently=True)
