"""{% if user|uses_data_requests %}: whether the navigation shows data requests (researchers, European coordinator)."""

from __future__ import annotations

from typing import Any

from django import template

from ..services import may_use

register = template.Library()


@register.filter
def uses_data_requests(user: Any) -> bool:
    return bool(user.is_authenticated and may_use(user))
