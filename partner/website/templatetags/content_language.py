"""Content written in one language, shown on a page in another: say so, in the page's language."""

from __future__ import annotations

from django import template
from django.utils import translation
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

register = template.Library()


def _only_in(language: str) -> str:
    # One sentence per language, not "Available in %(language)s only": the languages' names change
    # form with the sentence in Italian, German and Polish.
    return {
        "en": _("Available in English only"),
        "it": _("Available in Italian only"),
        "fr": _("Available in French only"),
        "de": _("Available in German only"),
        "pl": _("Available in Polish only"),
    }.get(language, "")


def page_language() -> str:
    return (translation.get_language() or "en").split("-")[0]


@register.simple_tag
def only_in(language: str) -> SafeString | str:
    """A note "Available in English only" where the text's `language` is not the page's, else nothing.
    The note carries the page's language, so that it is read right inside an element of another."""
    page = page_language()
    if not language or language.split("-")[0] == page:
        return ""
    return format_html('<p class="small muted content-language" lang="{}">{}</p>', page, _only_in(language))
