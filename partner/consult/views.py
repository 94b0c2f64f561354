"""Pages of the expert consultation: the requests a user may see, a new request, one request with
its panel, thread, recommendation and follow-up, its files, and the dashboard."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from partner.accounts.security import is_coordinator
from partner.cases.models import TumourCase

from . import services
from .models import Adherence, Attachment, Consultation, ConsultationStatus, Urgency

MAX_FILES = 5


def _language(request: HttpRequest) -> str:
    return (getattr(request, "LANGUAGE_CODE", None) or "en")[:2]


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


@login_required
def consultation_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    rows = (
        services.visible(user)
        .select_related("case__entity", "case__centre__country", "requested_by")
        .order_by("-submitted_at")[:200]
    )
    return render(
        request,
        "consult/list.html",
        {
            "consultations": rows,
            "now": timezone.now(),
            "may_request": user.memberships.filter(role__in=services.CENTRE_ROLES).exists(),
            "may_see_dashboard": is_coordinator(request.user),
        },
    )


@login_required
def new(request: HttpRequest) -> HttpResponse:
    """A request for a case of the user's scope; without a case, the cases to choose from."""
    case_id = request.GET.get("case") or request.POST.get("case")
    if not case_id or not case_id.isdigit():
        cases = (
            TumourCase.objects.restrict(request.user).filter(entity__isnull=False).select_related("entity", "patient")
        )
        return render(request, "consult/choose_case.html", {"cases": cases.order_by("-created")[:100]})
    case = TumourCase.objects.restrict(request.user).filter(pk=int(case_id)).select_related("entity", "centre").first()
    if case is None:
        raise Http404("no such case in your scope")
    if not services.may_request(request.user, case):
        raise PermissionDenied("only the case's centre asks the expert panel")
    form = RequestForm(request.POST or None)
    kinds = Attachment.Kind.choices
    if request.method == "POST" and form.is_valid():
        files = request.FILES.getlist("files")[:MAX_FILES]
        file_kinds = request.POST.getlist("file_kinds")
        try:
            attachments = [
                (file_kinds[i] if i < len(file_kinds) else Attachment.Kind.OTHER, f.name or "attachment", f.read())
                for i, f in enumerate(files)
            ]
            consultation = services.submit(
                case,
                request.user,
                question=form.cleaned_data["question"],
                urgency=form.cleaned_data["urgency"],
                attachments=attachments,
            )
        except ValidationError as exc:
            for message in _errors(exc):
                form.add_error(None, message)
        else:
            messages.success(request, _("The request is with the expert panel's coordinators."))
            return redirect("consult:detail", consultation.pk)
    summary = services.summary_rows(services.summary_of(case), _language(request))
    return render(
        request,
        "consult/new.html",
        {"case": case, "form": form, "kinds": kinds, "summary": summary, "max_files": MAX_FILES},
    )


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    user: Any = request.user
    consultation = services.get_visible(user, pk)
    services.log_read(user, consultation, "read")
    assigned = services.is_assigned(user, consultation)
    coordinating = services.may_coordinate(user, consultation)
    is_open = consultation.status == ConsultationStatus.ASSIGNED
    recommendation = getattr(consultation, "recommendation", None)
    my_assignment = consultation.assignments.filter(expert=user).first()
    context: dict[str, Any] = {
        "consultation": consultation,
        "summary": services.summary_rows(consultation.summary, _language(request)),
        "entity": consultation.case.entity.names.get(_language(request)) if consultation.case.entity else "",
        "attachments": consultation.attachments.all(),
        "assignments": consultation.assignments.select_related("expert", "country"),
        "thread": consultation.messages.select_related("author"),
        "recommendation": recommendation,
        "my_assignment": my_assignment,
        "assigned": assigned,
        "may_assign": coordinating
        and consultation.status in (ConsultationStatus.SUBMITTED, ConsultationStatus.ASSIGNED),
        "candidates": services.candidates(consultation) if coordinating else [],
        "may_write": consultation.status != ConsultationStatus.WITHDRAWN
        and (assigned or coordinating or services.may_request(user, consultation.case)),
        "may_draft": assigned and is_open,
        "may_vote": assigned and is_open and recommendation is not None,
        "may_follow_up": services.may_follow_up(user, consultation),
        "adherence": getattr(consultation, "adherence", None),
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
    }
    return render(request, "consult/detail.html", context)


def _act(request: HttpRequest, pk: int, action: Any, done: str) -> HttpResponse:
    """Run one change on the request; its refusal is shown on the page, never half applied."""
    consultation = services.get_visible(request.user, pk)
    try:
        action(consultation)
    except ValidationError as exc:
        for message in _errors(exc):
            messages.error(request, message)
    else:
        messages.success(request, done)
    return redirect("consult:detail", consultation.pk)


@login_required
@require_POST
def assign(request: HttpRequest, pk: int) -> HttpResponse:
    experts = get_user_model().objects.filter(pk__in=[int(i) for i in request.POST.getlist("experts") if i.isdigit()])
    return _act(request, pk, lambda c: services.assign(c, request.user, list(experts)), _("The experts are assigned."))


@login_required
@require_POST
def message(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda c: services.post_message(c, request.user, request.POST.get("text", "")), _("Sent."))


@login_required
@require_POST
def draft(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda c: services.draft(c, request.user, request.POST.get("text", "")),
        _("The draft is saved; every expert votes on it."),
    )


@login_required
@require_POST
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

    return _act(request, pk, act, _("Your vote is recorded."))


@login_required
@require_POST
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
    )


@login_required
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda c: services.withdraw(c, request.user), _("The request is withdrawn."))


@login_required
@require_POST
def attach(request: HttpRequest, pk: int) -> HttpResponse:
    upload = request.FILES.get("file")

    def act(consultation: Consultation) -> None:
        if upload is None:
            raise ValidationError(_("Choose a file."))
        services.add_attachment(
            consultation, request.user, request.POST.get("kind", ""), upload.name or "attachment", upload.read()
        )

    return _act(request, pk, act, _("The file is attached."))


def _file_response(content: bytes, content_type: str, name: str) -> HttpResponse:
    """The file with the type read from its content when it was stored, as a download: a browser
    neither guesses another type (nosniff) nor runs it in the registry's pages."""
    response = HttpResponse(content, content_type=content_type)
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "")
    response["Content-Disposition"] = f'attachment; filename="{ascii_name}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
def attachment(request: HttpRequest, pk: int, attachment_id: int) -> HttpResponse:
    consultation = services.get_visible(request.user, pk)
    item = consultation.attachments.filter(pk=attachment_id).first()
    if item is None:
        raise Http404("no such attachment")
    services.log_read(request.user, consultation, f"attachment {item.pk}")
    with item.file.open("rb") as handle:
        return _file_response(handle.read(), item.content_type, item.name)


@login_required
def letter(request: HttpRequest, pk: int) -> HttpResponse:
    consultation = services.get_visible(request.user, pk)
    recommendation = getattr(consultation, "recommendation", None)
    if recommendation is None or not recommendation.letter:
        raise Http404("no letter yet")
    services.log_read(request.user, consultation, "letter")
    with recommendation.letter.open("rb") as handle:
        return _file_response(handle.read(), "application/pdf", f"consultation-{consultation.pk}.pdf")
