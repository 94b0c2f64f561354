"""API authentication: a personal token (Authorization: Bearer prt_...) or the web session."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import HttpError
from ninja.security import HttpBearer, django_auth

from .client import client_address
from .models import ApiToken
from .security import needs_second_factor

LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def _failures_key(request: HttpRequest) -> str | None:
    """Per client address; None when it cannot be known (no proxy header, no connection address):
    counting every such client together would let one of them shut the API for all."""
    address = client_address(request)
    return f"api-token-failures:{address}" if address else None


def _refuse_if_hammering(request: HttpRequest) -> None:
    """A client that sent too many unknown tokens in the last minute is refused for that minute, good
    token or not (429). Counted per server process, in its memory: with several workers a client gets
    up to that many times the limit. A token is 256 random bits, so this is against hammering and
    noisy scripts, not guessing."""
    key = _failures_key(request)
    if key and cache.get(key, 0) >= settings.PARTNER_TOKEN_FAILURES_PER_MINUTE:
        raise HttpError(429, "too many requests with an unknown token from this address: wait a minute")


def _count_failure(request: HttpRequest) -> None:
    key = _failures_key(request)
    if key is None:
        return
    cache.add(key, 0, timeout=60)
    try:
        cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, timeout=60)


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        _refuse_if_hammering(request)
        found = (
            ApiToken.objects.select_related("user")
            .filter(digest=ApiToken.digest_of(token), revoked__isnull=True, user__is_active=True)
            .first()
        )
        if found is None:
            _count_failure(request)
            return None
        now = timezone.now()
        if found.last_used is None or now - found.last_used > LAST_USED_RESOLUTION:
            # Once a minute is enough to tell an owner when a token was last used; a write on every
            # request would queue each API read behind the database's write lock.
            ApiToken.objects.filter(pk=found.pk).update(last_used=now)
        request.user = found.user
        request.api_token = found  # type: ignore[attr-defined]
        return found.user


def session_auth(request: HttpRequest) -> Any:
    """The web session, with the same second factor the pages ask of coordinators.

    A request with no session cookie has no session to check: it is answered 401 as unauthenticated,
    not 403 by the CSRF check that a browser's write passes first.
    """
    if settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return None
    user = django_auth(request)
    if user and needs_second_factor(user) and not user.is_verified():
        return None
    return user


API_AUTH = [TokenAuth(), session_auth]
