"""Coordinators manage the website's guidelines, national groups and news; each save is one
transaction and goes into the history with its author."""

from __future__ import annotations

import hashlib
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from partner.accounts.security import is_coordinator
from partner.consult.uploads import checked_upload
from partner.dictionary.loader import get_dictionary
from partner.lib.language import request_language
from partner.widgets import DateBox

from .models import Guideline, GuidelineFile, NationalGroup, NewsItem

#: What `<input type="date">` reads and shows in every language (Italian's first format would be 07/12/2026).
ISO_DATE_INPUT = DateBox()


def _coordinator(request: HttpRequest) -> None:
    if not is_coordinator(request.user):
        raise PermissionDenied("the website's content is managed by coordinators")


class GuidelineForm(forms.ModelForm):
    class Meta:
        model = Guideline
        fields = ["entity", "title", "language", "version", "status", "date", "summary"]
        widgets = {"date": ISO_DATE_INPUT, "summary": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, language: str = "en", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        entities = sorted(get_dictionary().entities, key=lambda e: e.names.get(language))
        self.fields["entity"] = forms.ChoiceField(
            label=gettext_lazy("Tumour entity"), choices=[(e.code, e.names.get(language)) for e in entities]
        )


class NationalGroupForm(forms.ModelForm):
    class Meta:
        model = NationalGroup
        fields = ["country", "name", "language", "description", "website", "email"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    website = forms.URLField(label=gettext_lazy("website"), required=False, assume_scheme="https")


class NewsItemForm(forms.ModelForm):
    class Meta:
        model = NewsItem
        fields = ["title", "language", "published", "visible", "body"]
        widgets = {"published": ISO_DATE_INPUT, "body": forms.Textarea(attrs={"rows": 10})}


FORMS: dict[str, tuple[type[forms.ModelForm], str, Any]] = {
    "guideline": (GuidelineForm, "website:guidelines", gettext_lazy("guideline")),
    "group": (NationalGroupForm, "website:groups", gettext_lazy("national group")),
    "news": (NewsItemForm, "website:news", gettext_lazy("news item")),
}


@login_required
def edit(request: HttpRequest, kind: str, pk: int | None = None) -> HttpResponse:
    """Create (no pk) or edit one item of the website's content."""
    if kind not in FORMS:
        raise Http404("no such kind of content")
    _coordinator(request)
    form_class, back, noun = FORMS[kind]
    model = form_class._meta.model
    instance = get_object_or_404(model, pk=pk) if pk is not None else None
    extra: dict[str, Any] = {"language": request_language(request)} if kind == "guideline" else {}
    form = form_class(request.POST or None, instance=instance, **extra)
    if request.method == "POST" and form.is_valid():
        item = form.save(commit=False)
        if hasattr(item, "updated_by_id"):
            item.updated_by = request.user
        with transaction.atomic():
            item.save()
        messages.success(request, _("Saved."))
        return redirect(back)
    context = {"form": form, "noun": noun, "instance": instance, "back": back, "kind": kind}
    if kind == "guideline" and instance is not None:
        context["files"] = instance.files.all()
    return render(request, "website/edit.html", context)


@login_required
@require_POST
def upload_guideline_file(request: HttpRequest, pk: int) -> HttpResponse:
    _coordinator(request)
    guideline = get_object_or_404(Guideline, pk=pk)
    upload = request.FILES.get("file")
    label = request.POST.get("label", "").strip()[:120] or _("full text")
    try:
        if upload is None:
            raise ValidationError(_("Choose a file."))
        checked = checked_upload(upload.name or "guideline.pdf", upload.read())
        if checked.content_type != "application/pdf":
            raise ValidationError(_("%(name)s: guidelines are published as PDF.") % {"name": checked.name})
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("website:edit", kind="guideline", pk=pk)
    digest = hashlib.sha256(checked.content).hexdigest()
    user: Any = request.user
    item = GuidelineFile(
        guideline=guideline,
        label=label,
        name=checked.name,
        size=len(checked.content),
        sha256=digest,
        uploaded_by=user,
    )
    with transaction.atomic():
        item.file.save(f"{digest}.pdf", ContentFile(checked.content), save=False)
        item.save()
    messages.success(request, _("%(name)s is attached.") % {"name": checked.name})
    return redirect("website:edit", kind="guideline", pk=pk)
