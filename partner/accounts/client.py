"""Who is asking: the client's address and the request's id, from the trusted proxy's headers when the
registry runs behind one (PARTNER_TRUSTED_PROXIES), else from the connection itself.

Behind nginx on a unix socket the connection has no address at all, so anything keyed on it (the
unknown-token limiter, the log-in throttle, the access log) needs the address nginx saw.
"""

from __future__ import annotations

import ipaddress
import re
import uuid

from django.conf import settings
from django.http import HttpRequest

#: What a request id may look like; anything else from outside is replaced, so that it is safe in a log line.
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def behind_proxy() -> bool:
    return settings.PARTNER_TRUSTED_PROXIES > 0


def client_address(request: HttpRequest) -> str | None:
    """The client's address, or None when it cannot be known.

    Each trusted proxy appends the address it was reached from to X-Forwarded-For, so the client is the
    entry added by the outermost of them: the n-th from the right. Entries to its left were sent by the
    client and are never believed.
    """
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if behind_proxy() and forwarded:
        entries = [entry for entry in forwarded.split(",") if entry.strip()]
        if entries:
            return _valid(entries[max(0, len(entries) - settings.PARTNER_TRUSTED_PROXIES)])
    return _valid(request.META.get("REMOTE_ADDR") or "")


def request_id(request: HttpRequest) -> str:
    """The proxy's id for this request (so its log and ours can be matched) when it is trusted, else a new one."""
    given = request.META.get("HTTP_X_REQUEST_ID", "")
    if behind_proxy() and REQUEST_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex
