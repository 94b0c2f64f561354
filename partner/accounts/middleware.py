"""The registry's own middleware: a request id for the logs, no caching of what a member sees, and the
second factor before anything else for coordinators."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.cache import patch_cache_control

from .client import request_id
from .logs import current_request_id
from .security import needs_second_factor

#: Paths reachable between the password and the second factor.
OPEN_PREFIXES = ("/accounts/", "/static/", "/i18n/", "/health")


class SecondFactorMiddleware:
    """Sends a coordinator or administrator who has not confirmed a second factor to do so first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(OPEN_PREFIXES)
            and not user.is_verified()  # type: ignore[union-attr,attr-defined]  # added by OTPMiddleware
            and needs_second_factor(user)
        ):
            return HttpResponseRedirect(f"{reverse('verify')}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)


class RequestIdMiddleware:
    """Gives each request an id (the proxy's when it is trusted), written with every log record made while
    it is answered and returned in X-Request-ID, so that a user's report and the log can be matched."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.request_id = request_id(request)  # type: ignore[attr-defined]
        current_request_id.set(request.request_id)  # type: ignore[attr-defined]
        response = self.get_response(request)
        response["X-Request-ID"] = request.request_id  # type: ignore[attr-defined]
        return response


@receiver(request_finished, dispatch_uid="partner-request-id-end")
def _forget_request_id(**kwargs: Any) -> None:
    """Kept until the response is sent, not only while the middleware runs: Django logs a 4xx or 5xx
    answer after the last middleware has returned, and a streamed page logs while it is sent."""
    current_request_id.set("-")


class NoStoreMiddleware:
    """Cache-Control: no-store on every answer to a signed-in user and on every API answer: case pages,
    letters and extracts must stay in no browser's or proxy's cache. Pages for visitors are left alone,
    and static files never get here (WhiteNoise, above, answers them)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if not request.path.startswith(settings.STATIC_URL) and (
            request.path.startswith("/api/") or (user is not None and user.is_authenticated)
        ):
            patch_cache_control(response, no_store=True)
        return response
