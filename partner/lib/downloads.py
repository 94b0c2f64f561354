"""Stored files served back: always as a download, with the type read when they were stored."""

from __future__ import annotations

from django.http import HttpResponse


def download(content: bytes, content_type: str, name: str) -> HttpResponse:
    """The file as a download: a browser neither guesses another type (nosniff) nor runs it in the
    registry's pages (sandbox)."""
    response = HttpResponse(content, content_type=content_type)
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "")
    response["Content-Disposition"] = f'attachment; filename="{ascii_name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
