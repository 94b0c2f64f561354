"""The one place where what a user may see is decided.

Every view, API endpoint, export and analysis reads cases through `restrict(user)`:
nothing for anonymous users, everything for superusers and European coordinators, the
country for a national coordinator, the centre for a data manager or a clinician. Experts and
researchers see no row-level case here (they get consultations and aggregates elsewhere).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from partner.accounts.models import CENTRE_ROLES, Centre, Role

if TYPE_CHECKING:
    from .models import TumourCase


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

    def for_analysis(self) -> CaseQuerySet:
        """Only cases whose consent still stands: a withdrawn case leaves exports and analyses."""
        return self.filter(withdrawal__isnull=True)

    def counted(self) -> CaseQuerySet:
        """The cases analyses count: consent standing, and submitted, validated or locked.

        A draft is still being entered and has not passed the checks of submission: reports, the
        statistics API and the public pages leave it out, as the pooled figures must not change
        while a data manager types.
        """
        return self.for_analysis().exclude(status="draft")


class PatientQuerySet(models.QuerySet):
    def restrict(self, user: Any) -> PatientQuerySet:
        """Patients with at least one case in the user's scope: the case scope decides, nothing else.

        A child registered in Padova whose relapse is treated in Paris is seen from both centres,
        each seeing only its own cases of the child.
        """
        from .models import TumourCase  # the models module builds its managers from this one

        return self.filter(pk__in=TumourCase.objects.restrict(user).values("patient_id"))


def registration_centres(user: Any) -> models.QuerySet[Centre]:
    """The centres where the user registers cases: those of their data manager and clinician roles."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Centre.objects.none()
    return Centre.objects.filter(membership__user=user, membership__role__in=CENTRE_ROLES).distinct()


# --- who stands where to a case ----------------------------------------------------------------


def _cases() -> Any:
    from .models import TumourCase  # the models module builds its managers from this one

    return TumourCase.objects


def in_scope(user: Any, case: TumourCase) -> bool:
    return _cases().restrict(user).filter(pk=case.pk).exists()


def coordinates(user: Any, case: TumourCase) -> bool:
    """A coordinator whose scope holds the case: the national one of its country, a European one, a superuser."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return any(
        m.role == Role.EUROPEAN_COORDINATOR
        or (m.role == Role.NATIONAL_COORDINATOR and m.country_id == case.centre.country_id)
        for m in user.memberships.all()
    )


def works_at(user: Any, case: TumourCase) -> bool:
    """A data manager or clinician of the case's centre."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.memberships.filter(role__in=CENTRE_ROLES, centre_id=case.centre_id).exists()
