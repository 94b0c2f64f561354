"""Pages of the clarification queries: the list in the user's scope, one query's thread, raising a query."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from partner.cases.models import TumourCase
from partner.cases.views import visible_case
from partner.dictionary.loader import get_dictionary
from partner.lib.language import request_language
from partner.widgets import DateBox

from . import queries as services
from .models import Finding, Query, QueryStatus
from .presentation import shown


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
        label=gettext_lazy("Line or event (repeating forms only)"),
        min_value=0,
        required=False,
        help_text=gettext_lazy(
            "For a treatment line or a follow-up event: its number (1, 2, ...). Leave empty for the other forms."
        ),
    )
    question = forms.CharField(
        label=gettext_lazy("Question"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000
    )
    due = forms.DateField(
        label=gettext_lazy("Due date"),
        widget=DateBox(),
        help_text=gettext_lazy("The centre is reminded by e-mail every three days once it has passed."),
    )

    def __init__(self, *args: Any, choices: list[Any], fixed: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["field"].choices = [("", "—"), *choices]  # type: ignore[attr-defined]
        self.fields["instance"].widget.attrs["min"] = 1
        self.fields["due"].widget.attrs["min"] = timezone.localdate().isoformat()
        if fixed:  # raised from a finding: the field and its row are the finding's, shown above the form
            self.fields["field"].widget = forms.HiddenInput()
            self.fields["instance"].widget = forms.HiddenInput()

    def clean_instance(self) -> int:
        return self.cleaned_data.get("instance") or 0


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
    query = get_object_or_404(Query.objects.select_related("raised_by", "finding"), pk=pk)
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
    lang = request_language(request)
    context = {
        "query": query,
        "case": case,
        "label": services.field_label(query.field, lang),
        "now": services.field_now(case, query.field, query.row, lang),
        "may_edit": services.works_at(request.user, case),
        "late": query.status == QueryStatus.OPEN and query.due < timezone.localdate(),
        "thread": query.messages.select_related("author"),
        "history": query.history.select_related("history_user").order_by("-history_date", "-history_id"),
        "answer_form": (bad if action == "answer" else MessageForm(prefix="answer")) if can_answer else None,
        "reply_form": (bad if action == "reply" else MessageForm(prefix="reply")) if can_coordinate else None,
        "close_form": (bad if action == "close" else CloseForm(prefix="close")) if can_coordinate else None,
    }
    return render(request, "quality/query.html", context)


def _finding(request: HttpRequest) -> Finding | None:
    """The finding the query is raised from (`?finding=`), read in the user's scope: 404 when it is not theirs."""
    given = request.GET.get("finding", "")
    if not given:
        return None
    if not given.isdigit():
        raise Http404(_("No such finding."))
    finding = Finding.objects.filter(case__in=TumourCase.objects.restrict(request.user), pk=int(given)).first()
    if finding is None:
        raise Http404(_("No such finding."))
    return finding


@login_required
def query_new(request: HttpRequest) -> HttpResponse:
    finding = _finding(request)
    try:
        case_id = finding.case_id if finding else int(request.GET.get("case", ""))
        instance = finding.row if finding else int(request.GET.get("instance") or 0)
    except ValueError:
        raise Http404(_("No such case.")) from None
    in_scope = TumourCase.objects.restrict(request.user).filter(pk=case_id).first()
    if in_scope is None:
        raise Http404(_("No such case."))
    if not services.coordinates(request.user, in_scope):  # refused before the read is logged: it changes nothing
        raise PermissionDenied(_("Only a coordinator whose scope holds the case raises a query on it."))
    case = visible_case(request, case_id, "query new")
    lang = request_language(request)
    choices = services.case_fields(case, lang)
    field = finding.field if finding else request.GET.get("field", "")
    initial: dict[str, Any] = {
        "field": field,
        "instance": max(instance, 0) or None,
        "due": timezone.localdate() + services.DEFAULT_DUE,
    }
    found = None
    if finding is not None:
        found = shown([finding], get_dictionary(case.dictionary_version.number))[0]
        initial["question"] = f"{found.message}\n\n"
    form = RaiseForm(request.POST or None, initial=initial, choices=choices, fixed=finding is not None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            query = services.raise_query(
                case,
                data["field"],
                data["question"],
                data["due"],
                request.user,
                instance=data["instance"],
                finding=finding,
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The query was raised; the centre's data managers were told by e-mail."))
            return redirect("quality:query", pk=query.pk)
    context = {
        "case": case,
        "form": form,
        "finding": found,
        "now": services.field_now(case, field, max(instance, 0), lang) if field else None,
    }
    return render(request, "quality/query_new.html", context)
