"""Who needs a second factor: coordinators and administrators, whose scope is a country or more."""

from __future__ import annotations

from typing import Any

from .models import Role

SECOND_FACTOR_ROLES = {Role.NATIONAL_COORDINATOR, Role.EUROPEAN_COORDINATOR}


def is_coordinator(user: Any) -> bool:
    """A national or European coordinator, or an administrator."""
    return bool(user.is_superuser or user.memberships.filter(role__in=SECOND_FACTOR_ROLES).exists())


def is_european_coordinator(user: Any) -> bool:
    return bool(user.is_superuser or user.memberships.filter(role=Role.EUROPEAN_COORDINATOR).exists())


def needs_second_factor(user: Any) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.is_staff:
        return True
    return user.memberships.filter(role__in=SECOND_FACTOR_ROLES).exists()
