"""Pages of data requests: a researcher's own requests and new request, the coordinator's queue and decision."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from partner.dictionary.loader import get_dictionary
from partner.jobs import services as jobs
from partner.lib.language import request_language
from partner.lists.views import ListSpec, render_list
from partner.release.layer import NotReleased, Release

from . import selection, services
from .extract import cohort_frames
from .filtersets import RequestFilterSet
from .forms import DecisionForm, RequestForm
from .models import DataRequest, RequestStatus
from .tables import RequestTable


def _add_errors(form: forms.Form, exc: ValidationError) -> None:
    """The service's errors beside the fields they are about (`cohort.entities` -> entities)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc)
        return
    for key, errors in exc.message_dict.items():
        name = key.removeprefix("cohort.")
        form.add_error(name if name in form.fields else None, errors)


def _visible(request: HttpRequest, pk: int) -> DataRequest:
    """The request if the user may see it; else 404, exactly as for a request that does not exist."""
    return get_object_or_404(services.visible(request.user), pk=pk)


REQUESTS = ListSpec(
    filterset=RequestFilterSet,
    table=RequestTable,
    title=gettext_lazy("Data requests"),
    count=lambda n: ngettext("%(n)s data request", "%(n)s data requests", n) % {"n": n},
    name="data-requests",
    may_export=services.may_use,
    default_sort="-created",
    template="datarequests/list.html",
)


@login_required
def request_list(request: HttpRequest) -> HttpResponse:
    if not services.may_use(request.user):
        raise PermissionDenied(_("Data requests are for researchers and the European coordinator."))
    reviewer = services.may_review(request.user)
    context = {"reviewer": reviewer, "can_request": services.may_request(request.user)}
    return render_list(
        request, REQUESTS, services.visible(request.user), context=context, table_kwargs={"reviewer": reviewer}
    )


@login_required
def request_preview(request: HttpRequest) -> HttpResponse:
    """How many cases the cohort being chosen would hold, as the release layer gives it to the viewer."""
    if not services.may_use(request.user):
        raise PermissionDenied(_("Data requests are for researchers and the European coordinator."))
    dictionary = get_dictionary()
    form = RequestForm(request.GET, dictionary=dictionary, language=request_language(request))
    form.is_valid()  # the title and purpose are not asked here: only the cohort's fields are read
    context: dict[str, Any] = {"problems": [], "count": None, "hidden": False}
    try:
        cohort = selection.check_cohort(form.cohort(), dictionary)
    except ValidationError as exc:
        context["problems"] = exc.messages
        return render(request, "datarequests/_preview.html", context)
    cohort_errors = [e for name in form.COHORT_FIELDS for e in form.errors.get(name, [])]
    release = Release.for_viewer(request.user)
    try:
        release.check_period(*(form.cleaned_data.get(key) for key in ("period_start", "period_end")))
    except NotReleased as exc:
        cohort_errors.append(str(exc))
    if cohort_errors:
        context["problems"] = cohort_errors
        return render(request, "datarequests/_preview.html", context)
    draft = DataRequest(cohort=cohort, dictionary_version=dictionary.number)
    selected = cohort_frames(draft, dictionary)[1]
    count = release.count([int(i) for i in selected["case_id"]])
    context.update(count=count, hidden=count is None, exact=release.exact, threshold=release.threshold)
    return render(request, "datarequests/_preview.html", context)


@login_required
def request_new(request: HttpRequest) -> HttpResponse:
    if not services.may_request(request.user):
        raise PermissionDenied(_("Only researchers submit data requests."))
    dictionary = get_dictionary()
    lang = request_language(request)
    form = RequestForm(request.POST or None, dictionary=dictionary, language=lang)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.submit(
                user=request.user,
                title=form.cleaned_data["title"],
                purpose=form.cleaned_data["purpose"],
                variables=form.cleaned_data["variables"],
                cohort=form.cohort(),
            )
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Your request was sent to the European coordinator."))
            return redirect("datarequests:detail", pk=created.pk)
    chosen = request.POST.getlist("variables") if request.method == "POST" else []
    context = {"form": form, "groups": selection.variable_groups(dictionary, lang, chosen), "dictionary": dictionary}
    return render(request, "datarequests/new.html", context)


def _detail(request: HttpRequest, found: DataRequest, decision_form: DecisionForm | None = None) -> HttpResponse:
    user = request.user
    dictionary = get_dictionary(found.dictionary_version)
    lang = request_language(request)
    mine = found.requester_id == user.pk
    submitted = found.status == RequestStatus.SUBMITTED
    reviewer = services.may_review(user)
    can_decide = reviewer and submitted and not mine
    groups = [g for g in selection.variable_groups(dictionary, lang, found.variables) if g["chosen"]]
    context = {
        "item": found,
        "groups": groups,
        "cohort": selection.describe_cohort(found.cohort, dictionary, lang),
        "history": services.history(found),
        "can_withdraw": mine and submitted,
        "can_download": mine and found.status == RequestStatus.APPROVED,
        "decision_form": (decision_form or DecisionForm()) if can_decide else None,
        "cohort_size": services.cohort_size(found) if reviewer else None,
    }
    return render(request, "datarequests/detail.html", context)


@login_required
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _visible(request, pk))


@login_required
@require_POST
def request_decide(request: HttpRequest, pk: int) -> HttpResponse:
    found = _visible(request, pk)
    if not services.may_review(request.user):
        raise PermissionDenied(_("Only the European coordinator decides on data requests."))
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return _detail(request, found, form)
    try:
        services.decide(
            found, user=request.user, decision=form.cleaned_data["decision"], note=form.cleaned_data["note"]
        )
    except ValidationError as exc:
        _add_errors(form, exc)
        return _detail(request, found, form)
    except services.NotNow as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Request #%(id)s is %(status)s.")
            % {"id": found.pk, "status": RequestStatus(form.cleaned_data["decision"]).label},
        )
    return redirect("datarequests:detail", pk=found.pk)


@login_required
@require_POST
def request_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    found = _visible(request, pk)
    try:
        services.withdraw(found, user=request.user)
    except services.NotNow as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Your request is withdrawn."))
    return redirect("datarequests:detail", pk=found.pk)


@login_required
def request_extract(request: HttpRequest, pk: int) -> HttpResponse:
    """The extract is built by the worker (every case of the cohort read and written): the researcher is
    sent to its job's page, which offers the zip when it is ready."""
    found = _visible(request, pk)
    try:
        services.check_download(found, user=request.user)
    except services.NotNow as exc:
        messages.error(request, str(exc))
        return redirect("datarequests:detail", pk=found.pk)
    title = _("Extract of data request #%(id)s") % {"id": found.pk}
    return jobs.start_from(request, "extract", title, {"request": found.pk})
