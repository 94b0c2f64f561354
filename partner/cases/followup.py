"""Which cases are due for follow-up: alive as far as known, and no contact for more than a year."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from .models import FormRecord

#: No contact for this many months and a case alive as far as known is due for follow-up.
FOLLOW_UP_MONTHS = 12


def months_before(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    last_day = 31
    while True:
        try:
            return dt.date(year, month + 1, min(day.day, last_day))
        except ValueError:
            last_day -= 1


def followup_due(cases: Any, today: dt.date | None = None) -> list[int]:
    """The ids of `cases` alive as far as known whose last contact (the latest follow-up event or last
    contact date; without either, the diagnosis) is more than FOLLOW_UP_MONTHS months ago."""
    since = months_before(today or timezone.localdate(), FOLLOW_UP_MONTHS).isoformat()
    last = {pk: day.isoformat() for pk, day in cases.values_list("pk", "diagnosis_date") if day}
    dead: set[int] = set()
    records = FormRecord.objects.filter(case__in=cases, form__code__in=("status", "follow_up"))
    for case_id, form, values in records.values_list("case_id", "form__code", "values"):
        if form == "status" and (values.get("patient_status") == "dead" or values.get("date_of_death")):
            dead.add(case_id)
        when = values.get("last_contact_date") if form == "status" else values.get("event_date")
        if isinstance(when, str) and when > last.get(case_id, ""):
            last[case_id] = when
    return sorted(pk for pk, when in last.items() if pk not in dead and when < since)
