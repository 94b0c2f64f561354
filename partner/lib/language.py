"""The language a page or an answer is given in."""

from __future__ import annotations

from typing import Any


def request_language(request: Any) -> str:
    """The two letters of the language the request is served in (the locale middleware's), "en" when none."""
    return (getattr(request, "LANGUAGE_CODE", None) or "en")[:2]
