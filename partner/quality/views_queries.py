"""Pages of the clarification queries: the list in the user's scope, one query's thread, raising a query."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from partner.accounts.models import Centre
from partner.accounts.security import is_coordinator
from partner.cases.models import TumourCase
from partner.cases.views import visible_case
from partner.lib.language import request_language

from . import queries as services
from .models import Query, QueryMessage, QueryStatus

ISO_DATE = "%Y-%m-%d"


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for name, errors in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, errors)


class MessageForm(forms.Form):
    text = forms.CharField(label=gettext_lazy("Message"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000)


class CloseForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Closing note"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=5000,
        required=False,
        help_text=gettext_lazy("Optional: why the query is settled."),
    )


class RaiseForm(forms.Form):
    field = forms.ChoiceField(label=gettext_lazy("Field"))
    instance = forms.IntegerField(
        label=gettext_lazy("Row"),
        min_value=0,
        initial=0,
        help_text=gettext_lazy("The line or event of a repeating form (1, 2, ...); 0 for the form as a whole."),
    )
    question = forms.CharField(
        label=gettext_lazy("Question"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000
    )
    due = forms.DateField(
        label=gettext_lazy("Due date"),
        widget=forms.DateInput(attrs={"type": "date"}, format=ISO_DATE),
        help_text=gettext_lazy("The centre is reminded by e-mail every three days once it has passed."),
    )

    def __init__(self, *args: Any, choices: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = [("", "—"), *choices]  # type: ignore[attr-defined]
        self.fields["due"].widget.attrs["min"] = timezone.localdate().isoformat()


@login_required
def query_list(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    last = QueryMessage.objects.filter(query=OuterRef("pk")).order_by("-written", "-id")
    found = services.scoped_queries(request.user).select_related("case__patient", "case__centre")
    found = found.annotate(
        last_text=Subquery(last.values("text")[:1]),
        last_author=Subquery(last.values("author__username")[:1]),
        last_written=Subquery(last.values("written")[:1]),
    )
    status = request.GET.get("status", "")
    if status in QueryStatus.values:
        found = found.filter(status=status)
    late = request.GET.get("overdue") == "1"
    if late:
        found = services.overdue(found, today)
    mine = request.GET.get("mine") == "1"
    if mine:
        found = found.filter(raised_by_id=request.user.pk)
    centres = (
        Centre.objects.filter(cases__queries__in=services.scoped_queries(request.user)).distinct().order_by("code")
    )
    centre = request.GET.get("centre", "")
    if centre:
        found = found.filter(case__centre__code=centre)
    page = Paginator(found.order_by("due", "id"), 50).get_page(request.GET.get("page"))
    lang = request_language(request)
    for query in page:
        query.label = services.field_label(query.field, lang)  # type: ignore[attr-defined]
        query.late = query.status == QueryStatus.OPEN and query.due < today  # type: ignore[attr-defined]
        query.age = (today - timezone.localdate(query.raised_at)).days  # type: ignore[attr-defined]
    filters = request.GET.copy()
    filters.pop("page", None)
    context = {
        "page": page,
        "statuses": QueryStatus.choices,
        "status": status,
        "overdue": late,
        "mine": mine,
        "centres": centres if len(centres) > 1 else [],
        "centre": centre,
        "filters": filters.urlencode(),
        "is_coordinator": is_coordinator(request.user),
    }
    return render(request, "quality/queries.html", context)


def _act(request: HttpRequest, query: Query) -> tuple[str, forms.Form | None]:
    """Carry out the posted action; the action and its form when it failed."""
    action = request.POST.get("action", "")
    if action not in ("answer", "reply", "close"):
        raise PermissionDenied(_("Unknown action."))
    form: forms.Form = (CloseForm if action == "close" else MessageForm)(request.POST, prefix=action)
    if not form.is_valid():
        return action, form
    text = form.cleaned_data["text"]
    try:
        if action == "answer":
            services.answer(query, text, request.user)
            messages.success(request, _("Your answer was sent to the coordinator."))
        elif action == "reply":
            services.reply(query, text, request.user)
            messages.success(request, _("The query was sent back to the centre."))
        else:
            services.close(query, request.user, text)
            messages.success(request, _("The query is closed."))
    except ValidationError as exc:
        _add_errors(form, exc)
        return action, form
    return action, None


@login_required
def query_detail(request: HttpRequest, pk: int) -> HttpResponse:
    query = get_object_or_404(Query.objects.select_related("raised_by"), pk=pk)
    case = visible_case(request, query.case_id, "query")
    failed: tuple[str, forms.Form | None] = ("", None)
    if request.method == "POST":
        failed = _act(request, query)
        if failed[1] is None:
            return redirect("quality:query", pk=query.pk)
        query.refresh_from_db()
    is_open = query.status != QueryStatus.CLOSED
    can_answer = is_open and services.works_at(request.user, case)
    can_coordinate = is_open and services.coordinates(request.user, case)
    action, bad = failed
    context = {
        "query": query,
        "case": case,
        "label": services.field_label(query.field, request_language(request)),
        "late": query.status == QueryStatus.OPEN and query.due < timezone.localdate(),
        "thread": query.messages.select_related("author"),
        "history": query.history.select_related("history_user").order_by("-history_date", "-history_id"),
        "answer_form": (bad if action == "answer" else MessageForm(prefix="answer")) if can_answer else None,
        "reply_form": (bad if action == "reply" else MessageForm(prefix="reply")) if can_coordinate else None,
        "close_form": (bad if action == "close" else CloseForm(prefix="close")) if can_coordinate else None,
    }
    return render(request, "quality/query.html", context)


@login_required
def query_new(request: HttpRequest) -> HttpResponse:
    try:
        case_id = int(request.GET.get("case", ""))
        instance = int(request.GET.get("instance") or 0)
    except ValueError:
        raise Http404(_("No such case.")) from None
    in_scope = TumourCase.objects.restrict(request.user).filter(pk=case_id).first()
    if in_scope is None:
        raise Http404(_("No such case."))
    if not services.coordinates(request.user, in_scope):  # refused before the read is logged: it changes nothing
        raise PermissionDenied(_("Only a coordinator whose scope holds the case raises a query on it."))
    case = visible_case(request, case_id, "query new")
    choices = services.case_fields(case, request_language(request))
    initial = {
        "field": request.GET.get("field", ""),
        "instance": max(instance, 0),
        "due": timezone.localdate() + services.DEFAULT_DUE,
    }
    form = RaiseForm(request.POST or None, initial=initial, choices=choices)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            query = services.raise_query(
                case, data["field"], data["question"], data["due"], request.user, instance=data["instance"]
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The query was raised; the centre's data managers were told by e-mail."))
            return redirect("quality:query", pk=query.pk)
    return render(request, "quality/query_new.html", {"case": case, "form": form})
