"""The one place where what a user may see is decided.

Every view, API endpoint, export and analysis reads cases through `restrict(user)`:
nothing for anonymous users, everything for superusers and European coordinators, the
country for a national coordinator, the centre for a data manager or a clinician. Experts and
researchers see no row-level case here (they get consultations and aggregates elsewhere).
"""

from __future__ import annotations

from typing import Any

from django.db import models

from partner.accounts.models import Role


def _scope(user: Any, *, centre_field: str, country_field: str) -> models.Q | None:
    """A filter for the user's scope; None means everything."""
    if user is None or not user.is_authenticated or not user.is_active:
        return models.Q(pk__in=[])
    if user.is_superuser:
        return None
    query = models.Q(pk__in=[])
    for membership in user.memberships.all():
        if membership.role == Role.EUROPEAN_COORDINATOR:
            return None
        if membership.role == Role.NATIONAL_COORDINATOR:
            query |= models.Q(**{country_field: membership.country_id})
        elif membership.role in (Role.DATA_MANAGER, Role.CLINICIAN):
            query |= models.Q(**{centre_field: membership.centre_id})
    return query


class CaseQuerySet(models.QuerySet):
    def restrict(self, user: Any) -> CaseQuerySet:
        query = _scope(user, centre_field="centre_id", country_field="centre__country_id")
        return self if query is None else self.filter(query)


class PatientQuerySet(models.QuerySet):
    def restrict(self, user: Any) -> PatientQuerySet:
        query = _scope(user, centre_field="centre_id", country_field="country_id")
        return self if query is None else self.filter(query)
