"""The one path every change to a case passes: who may make it, in which state, on which version.

Every entry point that changes a case, its records, its status, its consent or its patient (the
web forms and edit page, the API, CSV/XLSX and FHIR imports, the hub's receiving side, consent
withdrawal and erasure, linkage decisions) opens the change here, inside its transaction:

    with transaction.atomic():
        case = open_change(user, case, Action.EDIT)   # the case read afresh, on its locked row
        ...

`open_change` reads the case again under a row lock, so that what it checks (the actor's role for
*that* case, the case's state) is what the change is saved on: a copy read before the transaction
is never saved back. A refusal is a `ChangeRefused` naming why, in the reader's language.

| action    | who (for the case's centre or country)                     | refused when            |
|-----------|------------------------------------------------------------|-------------------------|
| edit      | its centre's data managers and clinicians, coordinators    | locked, consent withdrawn |
| withdraw  | its centre's data managers and clinicians, coordinators    | already withdrawn       |
| erase     | its centre's data managers, coordinators; locked: coordinators only, with a reason | already withdrawn |
| link      | European coordinators                                      | —                       |

`user=None` is the registry's own operator (a command run on the server, the demo builder): no
role is asked of it, the state still is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from partner.accounts.models import Centre, Role

from .models import ConsentWithdrawal, Patient, Status, TumourCase
from .validation import PATIENT_FIELDS, CaseInvalid, FormError


class Action(StrEnum):
    EDIT = "edit"
    WITHDRAW = "withdraw"
    ERASE = "erase"
    LINK = "link"


#: The roles that may take each action on a case they cover.
ALLOWED: dict[Action, frozenset[str]] = {
    Action.EDIT: frozenset({Role.DATA_MANAGER, Role.CLINICIAN, Role.NATIONAL_COORDINATOR, Role.EUROPEAN_COORDINATOR}),
    Action.WITHDRAW: frozenset(
        {Role.DATA_MANAGER, Role.CLINICIAN, Role.NATIONAL_COORDINATOR, Role.EUROPEAN_COORDINATOR}
    ),
    Action.ERASE: frozenset({Role.DATA_MANAGER, Role.NATIONAL_COORDINATOR, Role.EUROPEAN_COORDINATOR}),
    Action.LINK: frozenset({Role.EUROPEAN_COORDINATOR}),
}
#: The registration's fields that derive the pseudonym, named as the patient's own labels.
IDENTITY_LABELS = {"date_of_birth": gettext_lazy("date of birth"), "sex": gettext_lazy("sex")}
#: A locked case was frozen by its coordinator: only a coordinator erases it.
ERASE_LOCKED = frozenset({Role.NATIONAL_COORDINATOR, Role.EUROPEAN_COORDINATOR})


class ChangeRefused(Exception):
    """A change the guard refuses; `str()` says why, for the person who asked."""


class NotPermitted(ChangeRefused):
    """The actor holds no role for this case that allows the change."""


class CaseLocked(ChangeRefused):
    """The case is locked, or its consent was withdrawn: no new data."""


class AlreadyWithdrawn(CaseLocked):
    """The consent for this case was withdrawn before."""


class StaleVersion(ChangeRefused):
    """The record changed since the editor read it: their save must not overwrite the newer one."""

    def __init__(self, record: Any):
        self.record = record
        super().__init__(f"{record.form.code} #{record.number} is at version {record.version}")


def roles_for(user: Any, case: TumourCase) -> set[str]:
    """The roles `user` holds for this case: only the memberships whose centre or country covers it.

    A data manager at Padova who coordinates France is a data manager for a Padova case and a
    coordinator for a Paris case, never a coordinator for Padova's.
    """
    if user is None or not user.is_authenticated or not user.is_active:
        return set()
    if user.is_superuser:
        return {Role.EUROPEAN_COORDINATOR}
    return {
        m.role
        for m in user.memberships.all()
        if m.role == Role.EUROPEAN_COORDINATOR
        or (m.role == Role.NATIONAL_COORDINATOR and m.country_id == case.centre.country_id)
        or (m.role in (Role.DATA_MANAGER, Role.CLINICIAN) and m.centre_id == case.centre_id)
    }


def roles_at(user: Any, centre: Centre) -> set[str]:
    """The roles `user` holds for a case at `centre` (one not yet registered)."""
    probe = TumourCase(centre=centre)
    return roles_for(user, probe)


def check_role(user: Any, case: TumourCase, action: Action) -> None:
    if user is None:
        return
    roles = roles_for(user, case)
    if action == Action.ERASE and case.status == Status.LOCKED:
        if not roles & ERASE_LOCKED:
            raise NotPermitted(_("This case is locked: only its national or European coordinator may erase it."))
        return
    if not roles & ALLOWED[action]:
        raise NotPermitted(
            _("Your role does not allow this change to a case of %(centre)s.") % {"centre": case.centre.code}
        )


def check_state(case: TumourCase, action: Action = Action.EDIT) -> None:
    """Refuse new data for a locked case or one whose consent was withdrawn; refuse a second withdrawal."""
    withdrawn = ConsentWithdrawal.objects.filter(case_id=case.pk).exists()
    if action in (Action.WITHDRAW, Action.ERASE):
        if withdrawn:
            raise AlreadyWithdrawn(_("The consent for this case was already withdrawn."))
        return
    if action == Action.EDIT:
        if case.status == Status.LOCKED:
            raise CaseLocked(_("This case is locked: ask the national coordinator to unlock it before changing it."))
        if withdrawn:
            raise CaseLocked(_("Consent for this case was withdrawn: no new data are recorded."))


def lock_case(case: TumourCase | int) -> TumourCase:
    """The case read afresh on its row, locked until the transaction ends."""
    if not connection.in_atomic_block:
        raise RuntimeError("a case is changed inside a transaction")
    pk = case if isinstance(case, int) else case.pk
    return (
        TumourCase.objects.select_for_update(of=("self",))
        .select_related("patient", "centre__country", "entity", "dictionary_version")
        .defer("dictionary_version__definition")
        .get(pk=pk)
    )


def open_change(user: Any, case: TumourCase | int, action: Action = Action.EDIT) -> TumourCase:
    """The case, afresh and locked, once `user` may take `action` on it in its current state."""
    fresh = lock_case(case)
    check_role(user, fresh, action)
    check_state(fresh, action)
    return fresh


def check_registration(user: Any, centre: Centre) -> None:
    """Refuse a new case at a centre the actor holds no editing role for."""
    if user is None:
        return
    if not roles_at(user, centre) & ALLOWED[Action.EDIT]:
        raise NotPermitted(_("You do not register cases at %(centre)s.") % {"centre": centre.code})


def check_identity(
    patient: Patient, registration: Mapping[str, Any], *, number: int = 1, clearing: bool = False
) -> None:
    """Refuse registration values that differ from the patient's: they derive the pseudonym and the
    linkage encoding, which only a new registration of the child re-derives. With `clearing`, a
    value given as empty (a partial change clearing it) differs too."""
    fixed = {"date_of_birth": patient.date_of_birth.isoformat(), "sex": patient.sex}
    errors = [
        FormError(
            "registration",
            number,
            name,
            _(
                "the patient's %(field)s is %(stored)s: it derives the child's pseudonym and linkage encoding, "
                "so it is not changed here (register the child with the corrected identity instead)"
            )
            % {"field": IDENTITY_LABELS[name], "stored": fixed[name]},
        )
        for name in PATIENT_FIELDS
        if name in registration
        and (registration[name] not in (None, "") or clearing)
        and _text(registration[name]) != fixed[name]
    ]
    if errors:
        raise CaseInvalid(errors)


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, dt.date) else str(value).strip().lower()


def lock_patients(user: Any, ids: Iterable[int]) -> list[Patient]:
    """The patients a linkage decision re-links, locked, once the actor may link children."""
    if not connection.in_atomic_block:
        raise RuntimeError("patients are linked inside a transaction")
    if user is not None and not (user.is_superuser or user.memberships.filter(role__in=ALLOWED[Action.LINK]).exists()):
        raise NotPermitted(_("Only a European coordinator decides whether two registrations are one child."))
    return list(Patient.objects.select_for_update(of=("self",)).filter(pk__in=sorted(set(ids))).order_by("pk"))
