"""The status workflow of a case: draft -> submitted -> validated -> locked, by role, with who and when."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from partner.dictionary.loader import Dictionary

from .guard import lock_case, roles_for
from .models import Status, TumourCase
from .services import CaseInvalid, FormError, current_forms, validate_case


def finding_error(finding: Any, dictionary: Dictionary) -> FormError:
    from partner.quality.registry import rule_by_code

    form, _dot, field = finding.field.partition(".")
    rule = rule_by_code(dictionary).get(finding.rule)
    return FormError(form, finding.row or 1, field, rule.text(dictionary) if rule else finding.rule)


class TransitionRefused(Exception):
    pass


#: Allowed status changes and the roles that may make them (within their scope).
TRANSITIONS: dict[tuple[str, str], set[str]] = {
    (Status.DRAFT, Status.SUBMITTED): {"data_manager", "clinician", "national_coordinator", "european_coordinator"},
    (Status.SUBMITTED, Status.DRAFT): {"national_coordinator", "european_coordinator"},
    (Status.SUBMITTED, Status.VALIDATED): {"national_coordinator", "european_coordinator"},
    (Status.VALIDATED, Status.LOCKED): {"national_coordinator", "european_coordinator"},
    (Status.LOCKED, Status.VALIDATED): {"national_coordinator", "european_coordinator"},
}


def allowed_transitions(case: TumourCase, user: Any) -> list[str]:
    """The statuses `user` may move the case to: by the roles they hold for this case's centre or country."""
    roles = roles_for(user, case)
    return [to for (frm, to), who in TRANSITIONS.items() if frm == case.status and roles & who]


@transaction.atomic
def change_status(*, dictionary: Dictionary, case: TumourCase, to: str, user: Any) -> TumourCase:
    """Move a case along draft -> submitted -> validated -> locked; the history keeps who and when."""
    case = lock_case(case)
    if to not in allowed_transitions(case, user):
        raise TransitionRefused(f"a case that is {case.status} cannot be made {to} by your role")
    if to == Status.SUBMITTED:
        _, errors = validate_case(
            dictionary, current_forms(dictionary, case), partial=False, pseudonym=case.patient.pseudonym
        )
        if errors:
            raise CaseInvalid(errors)
    if to in (Status.SUBMITTED, Status.VALIDATED):
        # Quality control builds on cases; imported here so that cases never depends on it at load time.
        from partner.quality.services import blocking_errors

        findings = blocking_errors(case)
        if findings:
            raise CaseInvalid([finding_error(f, dictionary) for f in findings])
    case.status = to
    case._history_user = user  # type: ignore[attr-defined]
    case.save()
    return case
