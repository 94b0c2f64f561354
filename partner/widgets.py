"""Form widgets every app shares."""

from __future__ import annotations

from typing import Any

from django import forms

#: The one format a browser's date box reads and sends, whatever the page's language.
ISO_DATE = "%Y-%m-%d"


class DateBox(forms.DateInput):
    """A browser's date box (`<input type="date">`). Its value is always written YYYY-MM-DD: a date in
    the page's own format (07/12/2026 in Italian) is one the box cannot read, and it shows empty."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format=ISO_DATE)
