"""{% case_consultations case %}: on a case's page, its consultation requests and the way to ask the panel."""

from __future__ import annotations

from typing import Any

from django import template

from .. import services

register = template.Library()


@register.inclusion_tag("consult/_case_consultations.html", takes_context=True)
def case_consultations(context: dict[str, Any], case: Any) -> dict[str, Any]:
    user = context["request"].user
    return {
        "case": case,
        "may_request": bool(case.entity and case.entity.panel) and services.may_request(user, case),
        "consultations": services.visible(user).filter(case=case).order_by("-submitted_at"),
    }
