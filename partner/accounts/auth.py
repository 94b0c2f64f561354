"""API authentication: a personal token (Authorization: Bearer prt_...) or the web session."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer, django_auth

from .models import ApiToken
from .security import needs_second_factor

LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = (
            ApiToken.objects.select_related("user")
            .filter(digest=ApiToken.digest_of(token), revoked__isnull=True, user__is_active=True)
            .first()
        )
        if found is None:
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
    """The web session, with the same second factor the pages ask of coordinators."""
    user = django_auth(request)
    if user and needs_second_factor(user) and not user.is_verified():
        return None
    return user


API_AUTH = [TokenAuth(), session_auth]
