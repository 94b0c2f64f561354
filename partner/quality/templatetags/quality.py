"""{% case_quality case %}: a case's findings on its page, with the confirmation form where it applies."""

from __future__ import annotations

from typing import Any

from django import template

from partner.accounts.security import is_coordinator
from partner.dictionary.loader import get_dictionary

from ..models import FindingStatus
from ..presentation import shown
from ..rules.base import field_label

register = template.Library()


@register.inclusion_tag("quality/_case_quality.html", takes_context=True)
def case_quality(context: dict[str, Any], case: Any) -> dict[str, Any]:
    dictionary = get_dictionary(case.dictionary_version.number)
    findings = case.findings.exclude(status=FindingStatus.RESOLVED).select_related("confirmed_by")
    order = {"error": 0, "warning": 1, "query": 2}
    items = sorted(shown(findings, dictionary), key=lambda s: (order.get(s.finding.severity, 3), s.label))
    request = context["request"]
    queries = case.queries.exclude(status="closed").order_by("due")
    return {
        "queries": [(q, field_label(q.field, dictionary)) for q in queries],
        "case": case,
        "open": [s for s in items if s.finding.status == FindingStatus.OPEN],
        "confirmed": [s for s in items if s.finding.status == FindingStatus.CONFIRMED],
        "can_query": is_coordinator(request.user),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }


@register.filter
def sees_quality(user: Any) -> bool:
    """The menu offers the quality dashboard to those it is for (experts and researchers are refused it)."""
    from ..views_dashboard import may_see_dashboard

    return bool(user.is_authenticated and may_see_dashboard(user))
