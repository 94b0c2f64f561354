"""Withdrawal of consent: the case leaves exports and analyses, and is erased where the scope requires."""

from __future__ import annotations

import datetime as dt
from typing import Any

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .guard import Action, AlreadyWithdrawn, ChangeRefused, open_change
from .models import ConsentWithdrawal, FormRecord, TumourCase

__all__ = [
    "KEPT_ON_ERASURE",
    "AlreadyWithdrawn",
    "ErasureNeedsReason",
    "eighteenth",
    "reconsent_due",
    "withdraw_consent",
]

#: Forms kept when a case is erased: who the patient is to the registry, and what they withdrew.
KEPT_ON_ERASURE = ("registration", "consent")


class ErasureNeedsReason(ChangeRefused):
    pass


def eighteenth(born: dt.date) -> dt.date:
    """The patient's eighteenth birthday (1 March for those born on 29 February)."""
    try:
        return born.replace(year=born.year + 18)
    except ValueError:
        return dt.date(born.year + 18, 3, 1)


def reconsent_due(cases: Any, today: dt.date | None = None) -> dict[int, str | None]:
    """Of `cases`, those whose patient has turned 18 and whose own consent is not yet recorded (nor
    consent withdrawn): each case's id with what the consent form says of re-consent so far."""
    today = today or timezone.localdate()
    adults = cases.filter(patient__date_of_birth__lte=today - relativedelta(years=18))
    consents = dict(FormRecord.objects.filter(case__in=adults, form__code="consent").values_list("case_id", "values"))
    due: dict[int, str | None] = {}
    for pk in adults.values_list("pk", flat=True):
        consent = consents.get(pk, {})
        if consent.get("reconsent_at_18") != "obtained" and consent.get("consent_reuse") != "withdrawn":
            due[pk] = consent.get("reconsent_at_18")
    return due


@transaction.atomic
def withdraw_consent(
    *, case: TumourCase, withdrawn_on: dt.date, erase: bool, user: Any, reason: str = ""
) -> ConsentWithdrawal:
    """Record a withdrawal; with `erase`, delete the clinical records and every earlier version of them.

    The consent form records the withdrawal and its date. Erasure removes the records of every other
    form but registration and consent, their historical versions, and the case's coded columns (and
    their history): nothing clinical is left to leak. The withdrawal row says what was erased, by
    whom, when and why. Who may withdraw and erase, and in which states, is the guard's
    (`partner.cases.guard`): an erasure needs a reason.
    """
    case = open_change(user, case, Action.ERASE if erase else Action.WITHDRAW)
    reason = reason.strip()
    if erase and not reason:
        raise ErasureNeedsReason(_("Say why the data are erased: the reason is kept with the erasure."))
    consent = case.records.filter(form__code="consent").first()
    values = {**(consent.values if consent else {}), "consent_reuse": "withdrawn"}
    values["consent_withdrawal_date"] = withdrawn_on.isoformat()
    if consent is None:
        definition = case.dictionary_version.forms.get(code="consent")
        consent = FormRecord(case=case, form=definition, number=1, values=values)
    else:
        consent.values = values
        consent.version += 1
    consent._history_user = user  # type: ignore[attr-defined]
    consent.save()

    erased: list[str] = []
    versions = 0
    if erase:
        doomed = case.records.exclude(form__code__in=KEPT_ON_ERASURE).select_related("form")
        erased = [f"{r.form.code} #{r.number}" for r in doomed.order_by("form__position", "number")]
        doomed.delete()
        # Then every version of them, the deletion's own included: the history would otherwise keep the values.
        history = FormRecord.history.model.objects.filter(case_id=case.pk).exclude(form__code__in=KEPT_ON_ERASURE)
        versions = history.delete()[0] - len(erased)  # the deletions' own rows are not earlier versions
        # The case's own earlier versions hold the codes and the date of diagnosis.
        versions += TumourCase.history.filter(id=case.pk).delete()[0]
        case.entity = None
        case.morphology = case.topography = case.iccc_group = case.iccc_extended = ""
        case.diagnosis_date = None
        case._history_user = user  # type: ignore[attr-defined]
        case.save()
    return ConsentWithdrawal.objects.create(
        case=case,
        withdrawn_on=withdrawn_on,
        erased=erase,
        erased_records=erased,
        erased_versions=versions,
        reason=reason,
        recorded_by=user,
    )
