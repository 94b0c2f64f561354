from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

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
