"""Clarification queries: a coordinator asks about one field of a case, the centre answers, the coordinator closes.

Every change of a query is saved with its author, so its history tells who did what and when; the
messages of the thread are kept in QueryMessage. Mails say which case, field and due date, and where to
read the query, never the question itself: free text may hold clinical detail that has no place in e-mail.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from partner.accounts.models import Role
from partner.cases.models import TumourCase
from partner.cases.scoping import coordinates, in_scope, works_at
from partner.dictionary.loader import Dictionary, get_dictionary

from .models import Finding, Query, QueryMessage, QueryStatus

log = logging.getLogger(__name__)

DEFAULT_DUE = dt.timedelta(days=14)
REMINDER_INTERVAL = dt.timedelta(days=3)


# --- who may do what ---------------------------------------------------------------------------


def scoped_queries(user: Any) -> QuerySet[Query]:
    """The queries on the cases the user may see: their centre's, their country's, or all."""
    return Query.objects.filter(case__in=TumourCase.objects.restrict(user))


# --- fields of the dictionary ------------------------------------------------------------------


def field_label(code: str, language: str = "en", dictionary: Dictionary | None = None) -> str:
    """'Form: field' in the reader's language; the code itself when the dictionary no longer has it."""
    form_code, _dot, field_code = code.partition(".")
    form = (dictionary or get_dictionary()).form_by_code.get(form_code)
    found = next((f for f in form.fields if f.code == field_code), None) if form else None
    if form is None or found is None:
        return code
    return f"{form.labels.get(language)}: {found.labels.get(language)}"


def case_fields(case: TumourCase, language: str = "en") -> list[tuple[str, list[tuple[str, str]]]]:
    """The fields a query may be about, grouped by form: the common forms and the modules of the case's entity."""
    d = get_dictionary()
    entity = case.entity.code if case.entity else None
    forms = d.common_forms() + d.modules_for(entity)
    return [
        (form.labels.get(language), [(f"{form.code}.{f.code}", f.labels.get(language)) for f in form.fields])
        for form in forms
    ]


@dataclass(frozen=True)
class FieldNow:
    """Where a query's field sits in the case and what it holds now, as a reader sees it."""

    form: str  # the form's label
    label: str  # the field's label
    row: int  # the line or event of a repeating form, from 1; 0 for a single form
    value: str  # as the case holds it now; "" when empty
    edit_url: str  # the case's edit page, at the field


def field_now(case: TumourCase, field: str, row: int, language: str = "en") -> FieldNow | None:
    """The field of the case's dictionary with its value read from the case's record now; None when the
    dictionary has no such field."""
    from partner.cases.views import _display  # the case page's own rendering of a value

    d = get_dictionary(case.dictionary_version.number)
    form_code, _dot, field_code = field.partition(".")
    form = d.form_by_code.get(form_code)
    found = next((f for f in form.fields if f.code == field_code), None) if form else None
    if form is None or found is None:
        return None
    number = row if form.repeating else 1
    record = case.records.filter(form__code=form_code, number=number).only("values").first()
    value = _display(found, record.values.get(field_code), language) if record else ""
    return FieldNow(
        form=form.labels.get(language),
        label=found.labels.get(language),
        row=row if form.repeating else 0,
        value=value,
        edit_url=edit_url(case, form_code, field_code, row if form.repeating else 0),
    )


def edit_url(case: TumourCase, form_code: str, field_code: str, row: int) -> str:
    """The page where the centre corrects the field, at the field: the form's own edit page where the
    case pages have one, else the whole case's."""
    anchor = f"id_{form_code}-{row}-{field_code}" if row else f"id_{form_code}-{field_code}"
    try:
        page = reverse("cases:edit_form", args=[case.pk, form_code])
    except NoReverseMatch:
        page = reverse("cases:edit", args=[case.pk])
    return f"{page}#{anchor}"


def _check_field(case: TumourCase, field: str, instance: int) -> None:
    d = get_dictionary()
    form_code, dot, field_code = field.partition(".")
    if not dot or not form_code or not field_code:
        raise ValidationError(
            {"field": _("Give the field as form.field, e.g. diagnosis.morphology, not “%(field)s”.") % {"field": field}}
        )
    form = d.form_by_code.get(form_code)
    if form is None:
        raise ValidationError(
            {"field": _("The data dictionary v%(v)s has no form %(form)s.") % {"v": d.number, "form": form_code}}
        )
    if not any(f.code == field_code for f in form.fields):
        raise ValidationError(
            {
                "field": _("The form %(form)s of the data dictionary v%(v)s has no field %(field)s.")
                % {"form": form_code, "v": d.number, "field": field_code}
            }
        )
    entity = case.entity.code if case.entity else None
    if form.is_module and entity not in form.entities:
        raise ValidationError(
            {
                "field": _("The module %(form)s is not for this case's tumour (%(entity)s).")
                % {"form": form_code, "entity": entity or _("no VRT entity")}
            }
        )
    if instance < 0:
        raise ValidationError({"instance": _("The row is a number from 1 up.")})
    if not form.repeating and instance:
        raise ValidationError(
            {"instance": _("The form %(form)s has no rows: leave the row empty.") % {"form": form_code}}
        )
    if instance and not case.records.filter(form__code=form_code, number=instance).exists():
        raise ValidationError(
            {"instance": _("The case has no row %(n)s of %(form)s.") % {"n": instance, "form": form_code}}
        )


# --- e-mail ------------------------------------------------------------------------------------


def data_manager_addresses(case: TumourCase) -> list[str]:
    users = get_user_model().objects.filter(
        is_active=True, memberships__role=Role.DATA_MANAGER, memberships__centre_id=case.centre_id
    )
    return sorted(set(users.exclude(email="").values_list("email", flat=True)))


def _mail(query: Query, what: str | Promise, lead: str | Promise) -> int:
    """One e-mail to each data manager of the case's centre, in the registry's language; the number sent."""
    case = query.case
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("%(what)s: case %(case)s (%(pseudonym)s…), %(field)s, due %(due)s") % {
            "what": what,
            "case": case.pk,
            "pseudonym": case.patient,
            "field": query.field,
            "due": query.due.isoformat(),
        }
        row = _(", row %(n)s") % {"n": query.row} if query.row else ""
        body = "\n".join(
            [
                str(lead),
                "",
                _("Case: %(case)s (pseudonym %(pseudonym)s…), %(centre)s")
                % {"case": case.pk, "pseudonym": case.patient, "centre": case.centre},
                _("Field: %(label)s (%(field)s%(row)s)")
                % {"label": field_label(query.field), "field": query.field, "row": row},
                _("Due: %(due)s") % {"due": query.due.isoformat()},
                "",
                _("Read and answer it in the registry: %(path)s") % {"path": reverse("quality:query", args=[query.pk])},
            ]
        )
    sent = 0
    for address in data_manager_addresses(case):
        sent += send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
    return sent


def _announce(query_id: int) -> None:
    query = Query.objects.select_related("case__patient", "case__centre").get(pk=query_id)
    try:
        _mail(
            query,
            gettext_lazy("New clarification query"),
            gettext_lazy("A coordinator asks a question about a case of your centre."),
        )
    except OSError:
        # The query is saved and listed for the centre; a mail server down must not turn that into an error.
        log.exception("query %s: the centre's data managers could not be told by e-mail", query_id)


# --- the services ------------------------------------------------------------------------------


def _locked(query: Query) -> Query:
    return (
        Query.objects.select_for_update(of=("self",)).select_related("case__patient", "case__centre").get(pk=query.pk)
    )


def _text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Write a message.")})
    return text


def _open(query: Query) -> None:
    if query.status == QueryStatus.CLOSED:
        raise ValidationError(_("Query %(id)s is closed.") % {"id": query.pk})


@transaction.atomic
def raise_query(
    case: TumourCase,
    field: str,
    question: str,
    due: dt.date | None,
    user: Any,
    instance: int = 0,
    finding: Finding | None = None,
) -> Query:
    """Ask the case's centre about one field; its data managers are told by e-mail once it is saved."""
    if not in_scope(user, case) or not coordinates(user, case):
        raise PermissionDenied(_("Only a coordinator whose scope holds the case raises a query on it."))
    _check_field(case, field, instance)
    question = (question or "").strip()
    if not question:
        raise ValidationError({"question": _("Write the question.")})
    today = timezone.localdate()
    due = due or today + DEFAULT_DUE
    if due < today:
        raise ValidationError({"due": _("The due date %(due)s is in the past.") % {"due": due.isoformat()}})
    if finding is not None and finding.case_id != case.pk:
        raise ValidationError({"finding": _("Finding %(id)s is about another case.") % {"id": finding.pk}})
    query = Query(case=case, field=field, row=instance, finding=finding, question=question, due=due, raised_by=user)
    query._history_user = user  # type: ignore[attr-defined]
    query.save()
    QueryMessage.objects.create(query=query, author=user, text=question)
    transaction.on_commit(lambda: _announce(query.pk))
    return query


@transaction.atomic
def answer(query: Query, text: str, user: Any) -> Query:
    """The centre answers (and has corrected the case, or explains why the value is right)."""
    query = _locked(query)
    if not works_at(user, query.case):
        raise PermissionDenied(_("Only the data managers and clinicians of the case's centre answer a query."))
    _open(query)
    text = _text(text)
    now = timezone.now()
    query.status = QueryStatus.ANSWERED
    query.answered_at = query.answered_at or now
    query._history_user = user  # type: ignore[attr-defined]
    query.save()
    QueryMessage.objects.create(query=query, author=user, text=text)
    return query


@transaction.atomic
def reply(query: Query, text: str, user: Any) -> Query:
    """The coordinator sends the query back to the centre with a message."""
    query = _locked(query)
    if not coordinates(user, query.case):
        raise PermissionDenied(_("Only a coordinator whose scope holds the case replies to a query."))
    _open(query)
    text = _text(text)
    query.status = QueryStatus.OPEN
    query._history_user = user  # type: ignore[attr-defined]
    query.save()
    QueryMessage.objects.create(query=query, author=user, text=text)
    return query


@transaction.atomic
def close(query: Query, user: Any, text: str = "") -> Query:
    query = _locked(query)
    if not coordinates(user, query.case):
        raise PermissionDenied(_("Only a coordinator whose scope holds the case closes a query."))
    _open(query)
    query.status = QueryStatus.CLOSED
    query.closed_at = timezone.now()
    query._history_user = user  # type: ignore[attr-defined]
    query.save()
    if text.strip():
        QueryMessage.objects.create(query=query, author=user, text=text.strip())
    return query


def overdue(queries: Any, today: dt.date | None = None) -> Any:
    """Queries waiting for the centre past their due date."""
    return queries.filter(status=QueryStatus.OPEN, due__lt=today or timezone.localdate())


def send_reminders(*, now: dt.datetime | None = None) -> int:
    """E-mail the centre about each overdue query, at most once every three days; the number of e-mails.

    Each query is reminded in its own transaction, so that a mail server failing half-way leaves the
    queries already reminded marked as such.
    """
    now = now or timezone.now()
    due = overdue(Query.objects.all(), timezone.localdate(now))
    waiting = due.exclude(last_reminder__gt=now - REMINDER_INTERVAL).values_list("pk", flat=True)
    sent = 0
    for pk in list(waiting):
        with transaction.atomic():
            query = (
                Query.objects.select_for_update(of=("self",)).select_related("case__patient", "case__centre").get(pk=pk)
            )
            if query.status != QueryStatus.OPEN or (
                query.last_reminder and query.last_reminder > now - REMINDER_INTERVAL
            ):
                continue
            count = _mail(
                query,
                gettext_lazy("Reminder: overdue clarification query"),
                gettext_lazy(
                    "A clarification query on a case of your centre is past its due date and waits for your answer."
                ),
            )
            if count:
                query.last_reminder = now
                query.save(update_fields=["last_reminder"])
            sent += count
    return sent
