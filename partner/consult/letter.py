"""The panel's recommendation as a PDF letter to the requesting clinician, from an HTML template by
WeasyPrint: the same fonts and layout on every machine, text that can be selected and searched."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone

from .models import Consultation
from .summary import summary_rows


def render_letter(consultation: Consultation, language: str = "en", *, for_panel: bool = False) -> bytes:
    """The letter; `for_panel`, the experts' copy, which names neither the requesting clinician nor the
    centre nor the registry's case."""
    import weasyprint  # loads Pango through cffi: only when a letter is written

    recommendation = consultation.recommendation
    assignments = consultation.assignments.select_related("expert", "country").order_by("country__code", "id")
    context = {
        "consultation": consultation,
        "recommendation": recommendation,
        "assignments": assignments,
        "agreeing": sum(1 for a in assignments if a.vote == "agree"),
        "summary": summary_rows(consultation.summary, language),
        "entity": consultation.case.entity.names.get(language) if consultation.case.entity else "",
        "for_panel": for_panel,
        "today": timezone.localdate(consultation.sent_at) if consultation.sent_at else timezone.localdate(),
    }
    html = render_to_string("consult/letter.html", context)
    return bytes(weasyprint.HTML(string=html).write_pdf())  # its title is the page's <title>
