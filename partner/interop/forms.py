"""The web import's form, and who may import into which centres with which mappings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from partner.accounts.models import Centre, Role
from partner.cases.models import Status
from partner.cases.scoping import registration_centres

from .models import ImportMapping

SUFFIXES = (".csv", ".tsv", ".txt", ".xlsx")
#: Larger files go through the command line (partner import cases), which shows its progress.
MAX_UPLOAD = 20 * 1024 * 1024
ENCODINGS = [
    ("utf-8", _("UTF-8")),
    ("latin-1", _("Latin-1 (ISO 8859-1)")),
    ("cp1252", _("Windows-1252")),
]
IMPORTER_ROLES = {Role.DATA_MANAGER, Role.CLINICIAN, Role.NATIONAL_COORDINATOR, Role.EUROPEAN_COORDINATOR}


def may_import(user: Any) -> bool:
    return bool(user.is_superuser or user.memberships.filter(role__in=IMPORTER_ROLES).exists())


def _sees_everything(user: Any) -> bool:
    return bool(user.is_superuser or user.memberships.filter(role=Role.EUROPEAN_COORDINATOR).exists())


def import_centres(user: Any) -> QuerySet[Centre]:
    """The centres the user may import into, as import_cases decides it: the same rule, shown as a choice."""
    if _sees_everything(user):
        return Centre.objects.all()
    countries = user.memberships.filter(role=Role.NATIONAL_COORDINATOR).values("country_id")
    return Centre.objects.filter(pk__in=registration_centres(user).values("pk")) | Centre.objects.filter(
        country_id__in=countries
    )


def import_mappings(user: Any) -> QuerySet[ImportMapping]:
    """The saved mappings of the national groups of the user's countries; all of them for Europe."""
    mappings = ImportMapping.objects.select_related("group").order_by("group__acronym", "name")
    if _sees_everything(user):
        return mappings
    countries = set(user.memberships.exclude(country=None).values_list("country_id", flat=True))
    countries |= set(user.memberships.exclude(centre=None).values_list("centre__country_id", flat=True))
    return mappings.filter(group__country_id__in=countries)


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        widget=forms.FileInput(attrs={"accept": ",".join(SUFFIXES)}),
        help_text=_("A .csv, .tsv, .txt or .xlsx file of at most 20 MB, one case per row."),
    )
    mapping = forms.ModelChoiceField(
        label=_("Mapping"),
        queryset=ImportMapping.objects.none(),
        required=False,
        empty_label=_("none: the columns bear the dictionary's names"),
        help_text=_("How your group's export names its columns and writes its values and dates."),
    )
    centre = forms.ModelChoiceField(
        label=_("Default centre"),
        queryset=Centre.objects.none(),
        required=False,
        to_field_name="code",
        empty_label=_("none: every row names its centre"),
        help_text=_("For the rows without a centre."),
    )
    status = forms.ChoiceField(
        label=_("Status of new cases"),
        choices=[(Status.DRAFT, Status.DRAFT.label), (Status.SUBMITTED, Status.SUBMITTED.label)],
        initial=Status.SUBMITTED,
        help_text=_("A submitted case must pass the quality rules' errors; a draft may still hold them."),
    )
    encoding = forms.ChoiceField(
        label=_("Encoding of a CSV file"),
        choices=ENCODINGS,
        initial="utf-8",
        help_text=_("Excel's “CSV” on Windows is often Windows-1252."),
    )
    sheet = forms.CharField(
        label=_("Sheet"),
        required=False,
        max_length=100,
        help_text=_("The workbook's sheet to read; needed when more than one sheet holds rows."),
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["mapping"].queryset = import_mappings(user)  # type: ignore[attr-defined]
        self.fields["centre"].queryset = import_centres(user).select_related("country").order_by("code")  # type: ignore[attr-defined]
        self.fields["centre"].label_from_instance = lambda c: f"{c.code} · {c}"  # type: ignore[attr-defined]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in SUFFIXES:
            raise forms.ValidationError(
                _("%(name)s: not a file this registry reads; give a .csv, .tsv, .txt or .xlsx file."),
                params={"name": upload.name},
            )
        if upload.size > MAX_UPLOAD:
            raise forms.ValidationError(
                _(
                    "%(name)s is %(size)s: at most %(limit)s are taken here. Split the file, "
                    "or import it with the command partner import cases."
                ),
                params={"name": upload.name, "size": filesizeformat(upload.size), "limit": filesizeformat(MAX_UPLOAD)},
            )
        return upload
