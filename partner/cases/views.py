"""Case page, history, re-consent and access log: every read goes through `restrict` and into the access log."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from partner.accounts.client import client_address
from partner.accounts.security import is_coordinator
from partner.dictionary.loader import get_dictionary
from partner.dictionary.models import EntityDefinition
from partner.dictionary.schema import FieldDef
from partner.lib.dates import format_partial
from partner.lib.language import request_language

from . import consent
from .history import grouped_history
from .models import AccessLog, ConsentWithdrawal, FormRecord, Status, TumourCase
from .overview import form_statuses
from .services import CaseInvalid
from .workflow import TransitionRefused, allowed_transitions, change_status


def visible_case(
    request: HttpRequest, pk: int, what: str, channel: str = AccessLog.Channel.WEB, related: tuple[str, ...] = ()
) -> TumourCase:
    """The case if the user may see it (else 404, never a hint that it exists), logged as read."""
    cases = TumourCase.objects.restrict(request.user).select_related(
        "patient", "centre__country", "entity", "dictionary_version", *related
    )
    # The version's whole definition is large and read from the dictionary cache instead.
    case = get_object_or_404(cases.defer("dictionary_version__definition"), pk=pk)
    AccessLog.objects.create(
        user_id=cast(int, request.user.pk), case=case, channel=channel, what=what, address=client_address(request)
    )
    return case


def _display(f: FieldDef, value: Any, lang: str) -> str:
    if value is None or value == "" or value == []:
        return ""
    labels = {c.code: c.labels.get(lang) for c in f.choices}
    if f.type == "multichoice":
        return ", ".join(labels.get(v, v) for v in value)
    if f.type == "choice":
        return labels.get(value, value)
    if f.type == "boolean":
        return "✓" if value else "✗"
    if f.type == "date" and (partial := format_partial(value, lang)):
        return partial
    if f.type == "date" and isinstance(value, str):
        try:
            text = formats.date_format(dt.date.fromisoformat(value), "SHORT_DATE_FORMAT")
        except ValueError:
            text = value
    elif f.type in ("integer", "decimal") and isinstance(value, int | float):
        text = formats.number_format(value, use_l10n=True)
    else:
        text = str(value)
    return f"{text} {f.unit}" if f.unit else text


def _case_value(field: str, value: Any) -> Any:
    """A case column's value as a reader knows it: the status in their language, the entity by name."""
    if field == "status" and value in Status.values:
        return Status(value).label
    if isinstance(value, dt.date):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    if field == "entity" and value:
        entity = EntityDefinition.objects.filter(pk=value).first()
        return entity.name if entity else value
    return value


@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = visible_case(request, pk, "case page")
    d = get_dictionary(case.dictionary_version.number)
    lang = request_language(request)
    stored = list(case.records.select_related("form").order_by("number"))
    records: dict[str, list[FormRecord]] = {}
    for record in stored:
        records.setdefault(record.form.code, []).append(record)
    forms = []
    for form in d.forms:
        if form.code not in records:
            continue
        instances = [
            [(f.labels.get(lang), _display(f, r.values.get(f.code), lang)) for f in form.fields if f.code in r.values]
            for r in records[form.code]
        ]
        forms.append(
            {"code": form.code, "label": form.labels.get(lang), "repeating": form.repeating, "instances": instances}
        )
    transitions = [(to, Status(to).label) for to in allowed_transitions(case, request.user)]
    withdrawal = ConsentWithdrawal.objects.filter(case=case).select_related("recorded_by").first()
    context = {
        "case": case,
        "forms": forms,
        "overview": form_statuses(d, case, stored, lang),
        "editable": case.status != Status.LOCKED and withdrawal is None,
        "transitions": transitions,
        "withdrawal": withdrawal,
        "is_coordinator": is_coordinator(request.user),
    }
    return render(request, "cases/detail.html", context)


@login_required
@require_POST
def case_status(request: HttpRequest, pk: int) -> HttpResponse:
    case = visible_case(request, pk, "status change")
    to = request.POST.get("to", "")
    try:
        change_status(dictionary=get_dictionary(case.dictionary_version.number), case=case, to=to, user=request.user)
    except TransitionRefused as exc:
        messages.error(request, str(exc))
    except CaseInvalid as exc:
        refused = (
            _("The case cannot be validated yet: %(problems)s")
            if to == Status.VALIDATED
            else _("The case cannot be submitted yet: %(problems)s")
        )
        messages.error(request, refused % {"problems": exc})
    else:
        messages.success(request, _("The case is now %(status)s.") % {"status": Status(to).label})
    return redirect("cases:detail", pk=case.pk)


@login_required
def case_history(request: HttpRequest, pk: int) -> HttpResponse:
    """The case's changes, one group a save, newest first."""
    case = visible_case(request, pk, "history")
    d = get_dictionary(case.dictionary_version.number)
    saves = grouped_history(d, case, request_language(request), _display, _case_value)
    return render(request, "cases/history.html", {"case": case, "saves": saves})


@login_required
def reconsent_due(request: HttpRequest) -> HttpResponse:
    """Patients in scope who have turned 18 and whose own consent is not yet recorded."""
    due = consent.reconsent_due(TumourCase.objects.restrict(request.user))
    cases = (
        TumourCase.objects.filter(pk__in=due)
        .select_related("patient", "centre", "entity")
        .order_by("patient__date_of_birth", "pk")
    )
    rows = [
        {"case": case, "turned_18": consent.eighteenth(case.patient.date_of_birth), "reconsent": due[case.pk]}
        for case in cases
    ]
    return render(request, "cases/reconsent.html", {"rows": rows})


@login_required
def access_log(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Who read which case, when and how: for coordinators, over the cases in their scope."""
    if not is_coordinator(request.user):
        raise PermissionDenied(_("The access log is for national and European coordinators."))
    case = visible_case(request, pk, "access log") if pk is not None else None
    reads = AccessLog.objects.filter(case__in=TumourCase.objects.restrict(request.user)).select_related(
        "user", "case__centre"
    )
    if case is not None:
        reads = reads.filter(case=case)
    who = request.GET.get("user", "").strip()
    if who:
        reads = reads.filter(user__username__icontains=who)
    page = Paginator(reads.order_by("-when", "-id"), 100).get_page(request.GET.get("page"))
    return render(request, "cases/access_log.html", {"case": case, "page": page, "who": who})
