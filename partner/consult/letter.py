"""The panel's recommendation as a PDF letter to the requesting clinician, from an HTML template by
WeasyPrint: the same fonts and layout on every machine, text that can be selected and searched.

The letter is written in the language chosen with the request (`Consultation.language`): its words,
dates, numbers and the case's summary alike, whatever language the page that sends it is in.
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone, translation

from .models import Consultation
from .summary import summary_rows


def addressee(consultation: Consultation) -> str:
    """The requesting clinician by name (the user name when none is known) and the case's centre, theirs,
    by its name in the active language."""
    user: Any = consultation.requested_by
    name = user.get_full_name().strip() or user.get_username()
    return f"{name}, {consultation.case.centre}"


def render_letter(consultation: Consultation, language: str | None = None, *, for_panel: bool = False) -> bytes:
    """The letter in `language` (by default the request's); `for_panel`, the experts' copy, which names
    neither the requesting clinician nor the centre nor the registry's case."""
    import weasyprint  # loads Pango through cffi: only when a letter is written

    language = language or consultation.language
    with translation.override(language):
        recommendation = consultation.recommendation
        assignments = consultation.assignments.select_related("expert", "country").order_by("country__code", "id")
        context = {
            "consultation": consultation,
            "recommendation": recommendation,
            "assignments": assignments,
            "agreeing": sum(1 for a in assignments if a.vote == "agree"),
            "summary": summary_rows(consultation.summary, language),
            "entity": consultation.case.entity.names.get(language) if consultation.case.entity else "",
            "addressee": "" if for_panel else addressee(consultation),
            "for_panel": for_panel,
            "today": timezone.localdate(consultation.sent_at) if consultation.sent_at else timezone.localdate(),
            "language": language,
        }
        html = render_to_string("consult/letter.html", context)
    return bytes(weasyprint.HTML(string=html).write_pdf())  # its title is the page's <title>
