"""The status workflow of a case: draft -> submitted -> validated -> locked, by role, with who and when."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from partner.dictionary.loader import Dictionary

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
    roles = {m.role for m in user.memberships.all()} | ({"european_coordinator"} if user.is_superuser else set())
    return [to for (frm, to), who in TRANSITIONS.items() if frm == case.status and roles & who]


@transaction.atomic
def change_status(*, dictionary: Dictionary, case: TumourCase, to: str, user: Any) -> TumourCase:
    """Move a case along draft -> submitted -> validated -> locked; the history keeps who and when."""
    case = TumourCase.objects.select_for_update(of=("self",)).get(pk=case.pk)
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
