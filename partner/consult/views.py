"""Pages of the expert consultation: the requests a user may see, a new request, one request with
its panel, thread, recommendation and follow-up, its files, and the dashboard."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from partner.accounts.models import Country
from partner.cases.models import TumourCase
from partner.lib.downloads import download
from partner.lib.language import request_language

from . import services
from .models import Adherence, Attachment, Consultation, ConsultationStatus, Panel, Urgency
from .next_step import next_step, status_line
from .summary import summary_of, summary_rows

MAX_FILES = 5
#: File inputs on the request's page; more files are added from the request's own page.
FILE_SLOTS = 3


def _errors(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


class RequestForm(forms.Form):
    question = forms.CharField(
        label=gettext_lazy("Clinical question"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=5000,
        help_text=gettext_lazy("What the panel should answer. Do not write the child's name or dates of birth."),
    )
    urgency = forms.ChoiceField(label=gettext_lazy("Urgency"), choices=Urgency.choices, initial=Urgency.ROUTINE)
    language = forms.ChoiceField(
        label=gettext_lazy("Language of the letter"),
        choices=settings.LANGUAGES,
        required=False,  # none posted: the language of the page, as the field offers
        help_text=gettext_lazy("The panel's recommendation is sent to you as a letter in this language."),
    )


@login_required
def new(request: HttpRequest) -> HttpResponse:
    """A request for a case of the user's scope; without a case, the cases to choose from."""
    case_id = request.GET.get("case") or request.POST.get("case")
    if not case_id or not case_id.isdigit():
        user: Any = request.user
        centre = user.memberships.filter(role__in=services.CENTRE_ROLES).exists()
        cases = TumourCase.objects.restrict(user).filter(entity__isnull=False).select_related("entity", "patient")
        context = {"centre": centre, "cases": cases.order_by("-created")[:100] if centre else []}
        return render(request, "consult/choose_case.html", context)
    case = TumourCase.objects.restrict(request.user).filter(pk=int(case_id)).select_related("entity", "centre").first()
    if case is None:
        raise Http404("no such case in your scope")
    if not services.may_request(request.user, case):
        raise PermissionDenied("only the case's centre asks the expert panel")
    form = RequestForm(request.POST or None, initial={"language": request_language(request)})
    kinds = Attachment.Kind.choices
    if request.method == "POST" and form.is_valid():
        # Each file has its own input and kind: a slot left empty shifts no kind onto the next file.
        slots = [(request.FILES.get(f"file-{n}"), request.POST.get(f"kind-{n}", "")) for n in range(1, FILE_SLOTS + 1)]
        try:
            attachments = [(kind, f.name or "attachment", f.read()) for f, kind in slots if f is not None]
            consultation = services.submit(
                case,
                request.user,
                question=form.cleaned_data["question"],
                urgency=form.cleaned_data["urgency"],
                attachments=attachments,
                language=form.cleaned_data["language"] or None,
            )
        except ValidationError as exc:
            for message in _errors(exc):
                form.add_error(None, message)
        else:
            messages.success(request, _("The request is with the expert panel's coordinators."))
            return redirect("consult:detail", consultation.pk)
    summary = summary_of(case)
    context = {
        "case": case,
        "form": form,
        "kinds": kinds,
        "summary": summary_rows(summary, request_language(request)),
        "facts": _facts(summary),
        "entity": case.entity.names.get(request_language(request)) if case.entity else "",
        "panel": Panel(case.entity.panel).label if case.entity and case.entity.panel in Panel.values else "",
        "slots": [(n, request.POST.get(f"kind-{n}", "")) for n in range(1, FILE_SLOTS + 1)],
    }
    return render(request, "consult/new.html", context)


def _facts(summary: dict[str, Any]) -> dict[str, Any]:
    """What the summary says of the child and the diagnosis beyond the forms, the country by its name."""
    country = Country.objects.filter(code=summary.get("country") or "").first()
    return {
        "age": summary.get("age_at_diagnosis"),
        "year": summary.get("diagnosis_year"),
        "country": country.local_name if country else summary.get("country"),
    }


@login_required
@require_safe
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    consultation = services.get_visible(request.user, pk)
    return _page(request, consultation)


def _page(request: HttpRequest, consultation: Consultation, errors: dict[str, list[str]] | None = None) -> HttpResponse:
    """The request's page; after a refused change, with the refusal beside the form that asked for it
    and what was typed there kept."""
    user: Any = request.user
    services.log_read(user, consultation, "read")
    assigned = services.is_assigned(user, consultation)
    coordinating = services.may_coordinate(user, consultation)
    is_open = consultation.status == ConsultationStatus.ASSIGNED
    recommendation = getattr(consultation, "recommendation", None)
    assignments = list(consultation.assignments.select_related("expert", "country"))
    my_assignment = next((a for a in assignments if a.expert_id == user.pk), None)
    errors = errors or {}
    adherence = getattr(consultation, "adherence", None)
    follow_up = (
        request.POST
        if "follow_up" in errors
        else {"followed": adherence.followed, "outcome": adherence.outcome, "reason": adherence.reason}
        if adherence
        else {}
    )
    context: dict[str, Any] = {
        "consultation": consultation,
        "summary": summary_rows(consultation.summary, request_language(request)),
        "facts": _facts(consultation.summary),
        "entity": consultation.case.entity.names.get(request_language(request)) if consultation.case.entity else "",
        "attachments": consultation.attachments.all(),
        "assignments": assignments,
        "voted": sum(1 for a in assignments if a.vote),
        "thread": _thread(consultation, user, assignments),
        "recommendation": recommendation,
        "my_assignment": my_assignment,
        "assigned": assigned,
        "coordinating": coordinating,
        "may_read_letter": services.may_read_letter(user, consultation) or services.signed_letter(user, consultation),
        "next_step": next_step(consultation, user),
        "status_line": status_line(consultation),
        "may_assign": coordinating
        and consultation.status in (ConsultationStatus.SUBMITTED, ConsultationStatus.ASSIGNED),
        "candidates": services.candidates(consultation) if coordinating else [],
        "may_write": consultation.status != ConsultationStatus.WITHDRAWN
        and (assigned or coordinating or services.may_request(user, consultation.case)),
        "may_draft": assigned and is_open,
        "may_vote": assigned and is_open and recommendation is not None,
        "may_follow_up": services.may_follow_up(user, consultation),
        "adherence": adherence,
        "follow_up": follow_up,
        "vote_choice": request.POST.get("vote", "") if "vote" in errors else getattr(my_assignment, "vote", ""),
        "followed_choices": Adherence.Followed.choices,
        "outcome_choices": Adherence.Outcome.choices,
        "may_withdraw": consultation.status in (ConsultationStatus.SUBMITTED, ConsultationStatus.ASSIGNED)
        and (consultation.requested_by_id == user.pk or coordinating),
        "may_attach": consultation.status in (ConsultationStatus.SUBMITTED, ConsultationStatus.ASSIGNED)
        and services.may_request(user, consultation.case),
        "kinds": Attachment.Kind.choices,
        "overdue": consultation.status in (ConsultationStatus.SUBMITTED, ConsultationStatus.ASSIGNED)
        and consultation.due < timezone.now(),
        "min_experts": services.MIN_EXPERTS,
        "min_countries": services.MIN_COUNTRIES,
        "errors": errors,
        "posted": request.POST if errors else {},
        "chosen": [int(i) for i in request.POST.getlist("experts") if i.isdigit()] if "panel" in errors else [],
    }
    return render(request, "consult/detail.html", context)


def form_address(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The address a form of the request's page posts to. A refusal is shown there (see `_act`), so a
    GET of it (a reload, a change of language) goes back to the request's page rather than a 405."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, pk: int, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method != "POST":
            return redirect("consult:detail", pk)
        return view(request, pk, *args, **kwargs)

    return wrapper


def _thread(consultation: Consultation, reader: Any, assignments: list[Any]) -> list[tuple[Any, str]]:
    """The messages with their authors' names; an expert reads the centre's people as "the requesting
    centre", as the summary names no centre."""
    experts = {a.expert_id for a in assignments}
    masked = reader.pk in experts
    names: dict[int, str] = {}
    thread = []
    for m in consultation.messages.select_related("author"):
        if m.author_id not in names:
            shown = not masked or m.author_id in experts or services.may_coordinate(m.author, consultation)
            names[m.author_id] = (
                (m.author.get_full_name() or m.author.username) if shown else _("the requesting centre")
            )
        thread.append((m, names[m.author_id]))
    return thread


def _act(request: HttpRequest, pk: int, action: Any, done: str, section: str) -> HttpResponse:
    """Run one change on the request: done, back to its page; refused, the page again with the refusal
    at the form of `section` and what was typed kept (each form posts to its own address with the
    fragment of its section, so the browser shows that form, not the top of the page). Never half applied."""
    consultation = services.get_visible(request.user, pk)
    try:
        action(consultation)
    except ValidationError as exc:
        return _page(request, services.get_visible(request.user, pk), errors={section: _errors(exc)})
    messages.success(request, done)
    return redirect("consult:detail", consultation.pk)


@login_required
@form_address
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    experts = get_user_model().objects.filter(pk__in=[int(i) for i in request.POST.getlist("experts") if i.isdigit()])
    return _act(
        request, pk, lambda c: services.assign(c, request.user, list(experts)), _("The experts are assigned."), "panel"
    )


@login_required
@form_address
def message(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda c: services.post_message(c, request.user, request.POST.get("text", "")),
        _("Your message is in the discussion."),
        "thread",
    )


@login_required
@form_address
def draft(request: HttpRequest, pk: int) -> HttpResponse:
    version = request.POST.get("version", "")
    return _act(
        request,
        pk,
        lambda c: services.draft(
            c, request.user, request.POST.get("text", ""), version=int(version) if version.isdigit() else None
        ),
        _("The draft is saved; every expert votes on it."),
        "draft",
    )


@login_required
@form_address
def vote(request: HttpRequest, pk: int) -> HttpResponse:
    version = request.POST.get("version", "")

    def act(consultation: Consultation) -> None:
        sent = services.vote(
            consultation,
            request.user,
            request.POST.get("vote", ""),
            request.POST.get("comment", ""),
            version=int(version) if version.isdigit() else None,
        )
        if sent:
            messages.info(request, _("Every expert has voted: the letter is sent to the requesting clinician."))

    return _act(request, pk, act, _("Your vote is recorded."), "vote")


@login_required
@form_address
def follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda c: services.record_adherence(
            c,
            request.user,
            followed=request.POST.get("followed", ""),
            outcome=request.POST.get("outcome", ""),
            reason=request.POST.get("reason", ""),
        ),
        _("The follow-up is recorded."),
        "follow_up",
    )


@login_required
@form_address
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda c: services.withdraw(c, request.user), _("The request is withdrawn."), "withdraw")


@login_required
@form_address
def attach(request: HttpRequest, pk: int) -> HttpResponse:
    upload = request.FILES.get("file")

    def act(consultation: Consultation) -> None:
        if upload is None:
            raise ValidationError(_("Choose a file."))
        services.add_attachment(
            consultation, request.user, request.POST.get("kind", ""), upload.name or "attachment", upload.read()
        )

    return _act(request, pk, act, _("The file is attached."), "files")


@login_required
@require_safe
def attachment(request: HttpRequest, pk: int, attachment_id: int) -> HttpResponse:
    consultation = services.get_visible(request.user, pk)
    item = consultation.attachments.filter(pk=attachment_id).first()
    if item is None:
        raise Http404("no such attachment")
    services.log_read(request.user, consultation, f"attachment {item.pk}")
    with item.file.open("rb") as handle:
        return download(handle.read(), item.content_type, item.name)


@login_required
@require_safe
def letter(request: HttpRequest, pk: int) -> HttpResponse:
    consultation = services.get_visible(request.user, pk)
    content = services.letter_for(request.user, consultation, request_language(request))
    if content is None:
        raise Http404("the letter is for those whose scope holds the case and the experts who voted on it")
    services.log_read(request.user, consultation, "letter")
    return download(content, "application/pdf", f"consultation-{consultation.pk}.pdf")
