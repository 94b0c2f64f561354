"""The date and age checks: the order of birth, onset, diagnosis, treatment, events, last contact and death.

After the IARC/IACR checks (Ferlay et al., IARC Technical Report 42, 2005) and the JRC-ENCR common
procedure (Martos et al., 2018). A missing date never fails a rule here. A partial date (a month or a
year) is the interval of its days: a rule fails only when every day of the interval breaks it.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from django.utils.translation import gettext_lazy as _

from .base import ERROR, WARNING, Context, Rule, any_of, bounds, mask, years_between

IARC = "IARC/IACR checks (Ferlay et al., IARC Technical Report 42, 2005)"
ENCR = "JRC-ENCR QC procedure (Martos et al., 2018)"

# Days a treatment may start before the diagnosis date without an error.
TREATMENT_BEFORE_DIAGNOSIS_DAYS = 0

Check = Callable[[Context], pd.Series]


def _frame(ctx: Context, form: str | None) -> pd.DataFrame:
    return ctx.cases if form is None else ctx.rows(form)


def _before(value: str, limit: str, *, form: str | None = None, days: int = 0) -> Check:
    """A check failing where date `value` is more than `days` days before date `limit`, whatever
    the days of a partial date are: its last possible day against the other's first."""

    def check(ctx: Context) -> pd.Series:
        frame = _frame(ctx, form)
        _first, last = bounds(frame, value)
        first, _last = bounds(frame, limit)
        return mask(last < first - pd.Timedelta(days=days))

    return check


def age_at_diagnosis(ctx: Context) -> pd.Series:
    return ctx.cached(
        "age_at_diagnosis", lambda: years_between(ctx.cases["date_of_birth"], ctx.cases["diagnosis_date"])
    )


# --- Dates ------------------------------------------------------------------------------------

FUTURE_DATES = ("diagnosis_date", "onset_date", "last_contact_date", "date_of_death")


def _future(ctx: Context) -> pd.Series:
    return any_of(*(mask(bounds(ctx.cases, name)[0] > ctx.today) for name in FUTURE_DATES))


def _status_death(ctx: Context) -> pd.Series:
    status = ctx.cases["patient_status"].astype("object")
    dead = status == "dead"
    has_date = ctx.cases["date_of_death"].notna()
    return (dead & ~has_date) | (has_date & status.notna() & ~dead)


def _age_range(ctx: Context) -> pd.Series:
    return mask(age_at_diagnosis(ctx) > ctx.max_age_years)


DATE_RULES = [
    Rule(
        "DATE-BIRTH-DX",
        ERROR,
        _("The diagnosis date is before the date of birth."),
        ("diagnosis.diagnosis_date", "registration.date_of_birth"),
        f"{IARC}: date of birth/incidence",
        _before("diagnosis_date", "date_of_birth"),
    ),
    Rule(
        "DATE-BIRTH-ONSET",
        ERROR,
        _("The date of onset is before the date of birth."),
        ("diagnosis.onset_date", "registration.date_of_birth"),
        f"{IARC}: date of birth/incidence",
        _before("onset_date", "date_of_birth"),
    ),
    Rule(
        "DATE-ONSET-DX",
        ERROR,
        _("The date of onset is after the diagnosis date."),
        ("diagnosis.onset_date", "diagnosis.diagnosis_date"),
        f"{ENCR}: date consistency",
        _before("diagnosis_date", "onset_date"),
    ),
    Rule(
        "DATE-DX-TREAT",
        ERROR,
        _("Treatment starts before diagnosis: check the treatment start date and the diagnosis date."),
        ("treatment.treatment_start_date", "diagnosis.diagnosis_date"),
        f"{ENCR}: incidence date/treatment date",
        _before("treatment_start_date", "diagnosis_date", form="treatment", days=TREATMENT_BEFORE_DIAGNOSIS_DAYS),
        form="treatment",
    ),
    Rule(
        "DATE-TREAT-END",
        ERROR,
        _("The treatment ends before it starts."),
        ("treatment.treatment_end_date", "treatment.treatment_start_date"),
        f"{ENCR}: date consistency",
        _before("treatment_end_date", "treatment_start_date", form="treatment"),
        form="treatment",
    ),
    Rule(
        "DATE-TREAT-CONTACT",
        WARNING,
        _("The treatment starts after the date of last contact: update the last contact date."),
        ("treatment.treatment_start_date", "status.last_contact_date"),
        f"{ENCR}: date consistency",
        _before("last_contact_date", "treatment_start_date", form="treatment"),
        form="treatment",
    ),
    Rule(
        "DATE-DX-CONTACT",
        ERROR,
        _("The date of last contact is before the diagnosis date."),
        ("status.last_contact_date", "diagnosis.diagnosis_date"),
        f"{IARC}: incidence/last contact",
        _before("last_contact_date", "diagnosis_date"),
    ),
    Rule(
        "DATE-FUTURE",
        ERROR,
        _("A date (diagnosis, onset, last contact or death) is in the future."),
        ("diagnosis.diagnosis_date", "diagnosis.onset_date", "status.last_contact_date", "status.date_of_death"),
        f"{IARC}: dates not after today",
        _future,
    ),
    Rule(
        "DATE-DEATH-DX",
        ERROR,
        _("The date of death is before the diagnosis date."),
        ("status.date_of_death", "diagnosis.diagnosis_date"),
        f"{ENCR}: incidence date/date of death",
        _before("date_of_death", "diagnosis_date"),
    ),
    Rule(
        "DATE-DEATH-CONTACT",
        ERROR,
        _("The date of last contact is after the date of death."),
        ("status.last_contact_date", "status.date_of_death"),
        f"{ENCR}: vital status dates",
        _before("date_of_death", "last_contact_date"),
    ),
    Rule(
        "DATE-EVENT-DX",
        ERROR,
        _("The follow-up event is before the diagnosis date."),
        ("follow_up.event_date", "diagnosis.diagnosis_date"),
        f"{ENCR}: date consistency",
        _before("event_date", "diagnosis_date", form="follow_up"),
        form="follow_up",
    ),
    Rule(
        # Strictly after: a vital status update, or any other event, may fall on the day of death.
        "DATE-EVENT-DEATH",
        ERROR,
        _("The follow-up event is after the date of death."),
        ("follow_up.event_date", "status.date_of_death"),
        f"{ENCR}: vital status dates",
        _before("date_of_death", "event_date", form="follow_up"),
        form="follow_up",
    ),
    Rule(
        "STATUS-DEATH",
        ERROR,
        _(
            "The patient status and the date of death disagree: "
            "a dead patient needs a date of death, and only a dead one has one."
        ),
        ("status.patient_status", "status.date_of_death"),
        f"{ENCR}: vital status",
        _status_death,
    ),
    Rule(
        "AGE-RANGE",
        ERROR,
        _("The age at diagnosis is above the registry's age limit."),
        ("diagnosis.diagnosis_date", "registration.date_of_birth"),
        f"{IARC}: age; registry inclusion criteria",
        _age_range,
    ),
]
