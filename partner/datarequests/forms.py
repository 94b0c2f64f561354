"""The forms of the data request pages; the rules themselves are checked by services.py."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from partner.accounts.countries import name_key
from partner.accounts.models import Country
from partner.analysis import AGE_GROUPS
from partner.dictionary.loader import Dictionary
from partner.widgets import DateBox

from .models import RequestStatus
from .selection import sex_choices


class VariablesField(forms.MultipleChoiceField):
    """The ticked variables; selection.check_variables says which one is unknown and why."""

    def valid_value(self, value: Any) -> bool:
        return True


class RequestForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    purpose = forms.CharField(
        label=_("Purpose"),
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80}),
        max_length=10000,
        help_text=_("The research question, the analysis planned, who will see the data and for how long."),
    )
    variables = VariablesField(label=_("Variables"), required=False)
    entities = forms.MultipleChoiceField(label=_("Entities"), required=False, widget=forms.CheckboxSelectMultiple)
    countries = forms.MultipleChoiceField(label=_("Countries"), required=False, widget=forms.CheckboxSelectMultiple)
    period_start = forms.DateField(
        label=_("Diagnosed from"),
        required=False,
        widget=DateBox(),
    )
    period_end = forms.DateField(
        label=_("Diagnosed until"),
        required=False,
        widget=DateBox(),
    )
    age_groups = forms.MultipleChoiceField(
        label=_("Age groups (years at diagnosis)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(group, group) for group in AGE_GROUPS],
    )
    sexes = forms.MultipleChoiceField(label=_("Sexes"), required=False, widget=forms.CheckboxSelectMultiple)
    stages = forms.CharField(
        label=_("Stage groups"),
        required=False,
        max_length=500,
        help_text=_("As the centres record them, separated by commas, e.g. II, III, IV. Leave empty for every stage."),
    )

    COHORT_FIELDS = ("entities", "countries", "period_start", "period_end", "age_groups", "sexes", "stages")

    def __init__(self, *args: Any, dictionary: Dictionary, language: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["entities"].choices = [(e.code, e.names.get(language)) for e in dictionary.entities]  # type: ignore[attr-defined]
        self.fields["countries"].choices = sorted(  # type: ignore[attr-defined]
            ((c.code, c.local_name) for c in Country.objects.all()), key=lambda choice: name_key(choice[1])
        )
        self.fields["sexes"].choices = sex_choices(dictionary, language)  # type: ignore[attr-defined]

    def cohort(self) -> dict[str, Any]:
        data = {key: self.cleaned_data.get(key) for key in self.COHORT_FIELDS}
        data["stages"] = [s.strip() for s in (data["stages"] or "").split(",") if s.strip()]
        return data


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        widget=forms.RadioSelect,
        choices=[
            (RequestStatus.APPROVED, _("Approve")),
            (RequestStatus.REJECTED, _("Reject")),
        ],
    )
    note = forms.CharField(
        label=_("Note to the researcher"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        max_length=5000,
        required=False,
        help_text=_("Required to reject: the reason, which the researcher reads."),
    )
