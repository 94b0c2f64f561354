"""The accounts pages: the second factor (a TOTP authenticator, set up once, asked for at every
log-in of a coordinator) and the user's own personal API tokens."""

from __future__ import annotations

import base64
from typing import cast
from urllib.parse import urlencode

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_variables
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import ApiToken
from .security import needs_second_factor


def _next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or settings.LOGIN_REDIRECT_URL
    return target if url_has_allowed_host_and_scheme(target, {request.get_host()}) else settings.LOGIN_REDIRECT_URL


@login_required
def verify(request: HttpRequest) -> HttpResponse:
    if not TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        return redirect(f"/accounts/second-factor/setup/?next={_next(request)}")
    if request.method == "POST":
        device = match_token(request.user, request.POST.get("token", "").strip())
        if device is not None:
            otp_login(request, device)
            return redirect(_next(request))
        messages.error(request, _("This code is not valid. Enter the six digits your authenticator shows now."))
    return render(request, "registration/verify.html", {"next": _next(request)})


@login_required
def setup(request: HttpRequest) -> HttpResponse:
    if TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        return redirect(f"/accounts/second-factor/?next={_next(request)}")
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name="authenticator", confirmed=False)
    if request.method == "POST":
        if device.verify_token(request.POST.get("token", "").strip()):
            device.confirmed = True
            device.save()
            otp_login(request, device)
            messages.success(request, _("Your authenticator is set up."))
            return redirect(_next(request))
        messages.error(request, _("This code is not valid. Enter the six digits your authenticator shows now."))
    qr = segno.make(device.config_url, error="m").svg_inline(scale=4, title=_("QR code for your authenticator"))
    secret = base64.b32encode(device.bin_key).decode()
    return render(request, "registration/totp_setup.html", {"qr": qr, "secret": secret, "next": _next(request)})


class TokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=ApiToken._meta.get_field("name").max_length,
        help_text=gettext_lazy("What the token is for, e.g. the script or the computer that uses it."),
        error_messages={"required": gettext_lazy("Give the token a name, so that you recognise it later.")},
    )


def _second_factor_missing(request: HttpRequest) -> bool:
    """The middleware leaves /accounts/ open, but a token must not let a coordinator skip the second factor."""
    return needs_second_factor(request.user) and not request.user.is_verified()  # type: ignore[union-attr]


def _own_tokens(request: HttpRequest) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user_id=cast(int, request.user.pk))


def _to_second_factor() -> HttpResponse:
    return redirect(f"{reverse('verify')}?{urlencode({'next': reverse('api_tokens')})}")


@sensitive_variables()  # the key is in the context of every frame below, template rendering included
@never_cache
@login_required
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The user's own tokens; a new token's key is in this one response only and is stored nowhere."""
    if _second_factor_missing(request):
        return _to_second_factor()
    form = TokenForm(request.POST) if request.method == "POST" else TokenForm()
    created, key = None, None
    if form.is_valid():
        created, key = ApiToken.issue(request.user, form.cleaned_data["name"])
        form = TokenForm()
    context = {"form": form, "tokens": _own_tokens(request), "created": created, "key": key}
    return render(request, "registration/api_tokens.html", context)


@login_required
@require_POST
def revoke_api_token(request: HttpRequest, pk: int) -> HttpResponse:
    if _second_factor_missing(request):
        return _to_second_factor()
    token = get_object_or_404(_own_tokens(request), pk=pk)
    if token.revoked is None:
        token.revoked = timezone.now()
        token.save(update_fields=["revoked"])
    messages.success(request, _("The token %(token)s is revoked: the API refuses it from now on.") % {"token": token})
    return redirect("api_tokens")
