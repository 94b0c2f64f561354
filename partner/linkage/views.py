"""The review queue: candidate pairs side by side, pseudonymised, for the European coordinator."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from partner.accounts.security import is_european_coordinator
from partner.cases.models import Patient

from .models import CandidatePair, Decision
from .services import decide


def _reviewer(request: HttpRequest) -> None:
    if not is_european_coordinator(request.user):
        raise PermissionDenied(_("The review of possible duplicates is for the European coordinator."))


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        widget=forms.RadioSelect,
        choices=[
            (Decision.SAME, Decision.SAME.label),
            (Decision.DIFFERENT, Decision.DIFFERENT.label),
            (Decision.UNDECIDED, Decision.UNDECIDED.label),
        ],
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=gettext_lazy("What made you decide, e.g. the centres confirmed a referral between them."),
    )


def _side(patient: Patient) -> dict[str, Any]:
    """What a reviewer may see of one patient: no name, no full date of birth."""
    cases = patient.cases.select_related("entity", "centre__country").order_by("diagnosis_date")
    return {
        "patient": patient,
        "born": patient.date_of_birth.strftime("%Y-%m"),
        "cases": [
            {
                "entity": c.entity.name if c.entity else "—",
                "codes": f"{c.morphology} {c.topography}",
                "diagnosed": c.diagnosis_date,
                "centre": c.centre,
                "country": c.centre.country,
            }
            for c in cases
        ],
    }


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    _reviewer(request)
    show = request.GET.get("show", "pending")
    pairs = CandidatePair.objects.select_related("left", "right", "decided_by")
    if show == "pending":
        pairs = pairs.filter(decision=Decision.PENDING)
    elif show in Decision.values:
        pairs = pairs.filter(decision=show)
    page = Paginator(pairs.order_by("-similarity", "id"), 50).get_page(request.GET.get("page"))
    counts = {d: CandidatePair.objects.filter(decision=d).count() for d in Decision.values}
    choices = [("pending", _("to review"))] + [(d.value, d.label) for d in Decision if d.value]
    return render(request, "linkage/queue.html", {"page": page, "show": show, "counts": counts, "choices": choices})


@login_required
def pair(request: HttpRequest, pk: int) -> HttpResponse:
    _reviewer(request)
    found = get_object_or_404(CandidatePair.objects.select_related("left", "right"), pk=pk)
    initial = {"decision": found.decision or None, "reason": found.reason}
    form = DecisionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        decide(found, form.cleaned_data["decision"], form.cleaned_data["reason"], request.user)
        messages.success(
            request, _("Decision recorded: %(decision)s.") % {"decision": Decision(form.cleaned_data["decision"]).label}
        )
        following = CandidatePair.objects.filter(decision=Decision.PENDING).order_by("-similarity", "id").first()
        return redirect("linkage:pair", pk=following.pk) if following else redirect("linkage:queue")
    history = found.history.select_related("history_user").order_by("-history_date")
    context = {
        "pair": found,
        "left": _side(found.left),
        "right": _side(found.right),
        "form": form,
        "history": history,
    }
    return render(request, "linkage/pair.html", context)
