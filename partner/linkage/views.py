"""The review queue (see partner/lists) and each candidate pair side by side, pseudonymised, for the
European coordinator."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from partner.accounts.security import is_european_coordinator
from partner.cases.models import Patient
from partner.lists.views import ListSpec, render_list

from .filtersets import PENDING, PairFilterSet
from .models import CandidatePair, Decision
from .services import decide
from .tables import PairTable


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


QUEUE = ListSpec(
    filterset=PairFilterSet,
    table=PairTable,
    title=gettext_lazy("Possible duplicates"),
    count=lambda n: ngettext("%(n)s pair", "%(n)s pairs", n) % {"n": n},
    name="linkage-pairs",
    may_export=is_european_coordinator,
    default_sort="-similarity",
    defaults={"status": PENDING},
    template="linkage/queue.html",
)


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    _reviewer(request)
    pairs = CandidatePair.objects.select_related("left__country", "right__country", "decided_by").prefetch_related(
        "left__cases__entity", "right__cases__entity"
    )
    counts = {d: CandidatePair.objects.filter(decision=d).count() for d in Decision.values}
    return render_list(request, QUEUE, pairs, context={"counts": counts})


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
