"""The data-entry pages: registering a case, editing it, and the tumour module that follows its codes.

Both pages are generated from the dictionary version of the case: single forms, repeating rows
(treatment lines, follow-up events) added and removed in the browser, and the tumour module of the
entity the ICD-O-3 codes classify to, swapped in by htmx as the codes are typed.
"""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from partner.accounts.models import CENTRE_ROLES, Centre
from partner.dictionary.loader import Dictionary, get_dictionary
from partner.lib.language import request_language
from partner.lib.pseudonym import Identity, pseudonym

from .casepage import CasePage, error_summary, module_context, modules_for
from .consent import withdraw_consent
from .editing import EditConflict, save_case
from .forms import DictionaryForm, IdentityForm, WithdrawalForm
from .guard import ChangeRefused, check_state
from .models import TumourCase
from .services import CaseInvalid, create_case
from .validation import PATIENT_FIELDS, FormError, validate_case
from .views import _display, visible_case


@login_required
def case_new(request: HttpRequest) -> HttpResponse:
    centres = list(
        Centre.objects.filter(
            membership__user_id=cast(int, request.user.pk), membership__role__in=CENTRE_ROLES
        ).distinct()
    )
    if not centres:
        raise PermissionDenied(_("Only a centre's data managers and clinicians register cases."))
    d = get_dictionary()
    lang = request_language(request)
    data = request.POST if request.method == "POST" else None
    identity = IdentityForm(data, prefix="identity", lang=lang)
    page = CasePage(d, lang, data)
    problems: list[str] = []
    if data is not None:
        valid = [identity.is_valid(), page.is_valid()]
        forms = _case_forms(d, page, identity.cleaned_data if valid[0] else {})
        if not all(valid):
            # Every refusal at once: the fields' own and the dictionary's, whatever the identity holds.
            problems = _show_errors(identity, page, validate_case(d, forms, partial=True)[1])
        else:
            who = identity.cleaned_data
            key = Identity(
                who["given_names"], who["family_names"], who["date_of_birth"], who["sex"], who["country_of_birth"]
            )
            try:
                case = create_case(
                    dictionary=d,
                    centre=centres[0],
                    pseudonym=pseudonym(key, settings.PSEUDONYM_KEY),
                    forms=forms,
                    user=request.user,
                    identity=key,
                )
            except CaseInvalid as exc:
                problems = _show_errors(identity, page, exc.errors)
            else:
                messages.success(request, _("Case registered as a draft."))
                return redirect("cases:detail", pk=case.pk)
    summary = error_summary([(_("Identifying data"), identity), *page.titled_forms()], problems) if data else []
    context = {
        "identity": identity,
        "page": page,
        "problems": problems,
        "summary": summary,
        **module_context(page, lang),
    }
    return render(request, "cases/new.html", context)


def _case_forms(d: Dictionary, page: CasePage, who: dict[str, Any]) -> dict[str, Any]:
    """The values of the new case's forms, the registration's date of birth and sex taken from the identity."""
    forms: dict[str, Any] = {}
    for code, rows in page.submitted().items():
        form = d.form_by_code[code]
        forms[code] = [dict(r.values) for r in rows] if form.repeating else dict(rows[0].values)
    typed = {"date_of_birth": who["date_of_birth"].isoformat(), "sex": who["sex"]} if who else {}
    forms["registration"] = {**forms.get("registration", {}), **typed}
    return forms


def _show_errors(identity: IdentityForm, page: CasePage, errors: list[FormError]) -> list[str]:
    """Errors beside their fields: the registration's date of birth and sex are typed in the identity."""
    typed = [e for e in errors if e.form == "registration" and e.field in PATIENT_FIELDS]
    for error in typed:
        if error.field not in identity.errors:
            identity.add_error(error.field, error.message)
    return page.show_errors([e for e in errors if e not in typed])


@login_required
def case_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """The whole case on one page."""
    return _edit(request, pk, None)


@login_required
def case_form_edit(request: HttpRequest, pk: int, form: str) -> HttpResponse:
    """One form of the case (or all the rows of one repeating form): saved as the whole case is, by `save_case`."""
    return _edit(request, pk, form)


def _edit(request: HttpRequest, pk: int, only: str | None) -> HttpResponse:
    case = visible_case(request, pk, "edit page" if only is None else "form edit page", related=("dictionary_version",))
    try:
        check_state(case)
    except ChangeRefused as exc:
        messages.error(request, str(exc))
        return redirect("cases:detail", pk=case.pk)
    d = get_dictionary(case.dictionary_version.number)
    entity = case.entity.code if case.entity else None
    definition = d.form_by_code.get(only) if only is not None else None
    if only is not None and (definition is None or (definition.is_module and definition not in modules_for(d, entity))):
        raise Http404(_("This case has no such form."))
    lang = request_language(request)
    records = list(case.records.select_related("form").order_by("form__position", "number"))
    if only is not None:
        records = [r for r in records if r.form.code == only]
    data = request.POST if request.method == "POST" else None
    born = case.patient.date_of_birth.isoformat()
    page = CasePage(d, lang, data, records=records, entity=entity, born=born, only=only)
    problems: list[str] = []
    if data is not None and page.is_valid():
        seen = _seen(data)
        forms = page.submitted()
        if only is not None:
            # Nothing of another form is read from this page, nor checked against its version.
            forms = {only: forms.get(only, [])}
            seen = {key: version for key, version in seen.items() if key[0] == only}
        try:
            changed = save_case(dictionary=d, case=case, forms=forms, seen=seen, user=request.user)
        except EditConflict as exc:
            return _conflict(request, case, d, lang, exc, only)
        except ChangeRefused as exc:
            messages.error(request, str(exc))
            return redirect("cases:detail", pk=case.pk)
        except CaseInvalid as exc:
            problems = page.show_errors(exc.errors)
        else:
            return _saved(request, case, changed, only)
    seen_inputs = [f"{r.form.code}:{r.number}:{r.version}" for r in records]
    if data is not None:
        seen_inputs = data.getlist("seen")
    context = {
        "case": case,
        "page": page,
        "problems": problems,
        "summary": error_summary(page.titled_forms(), problems) if data is not None else [],
        "seen": seen_inputs,
        "born": born,
        "only": definition.labels.get(lang) if definition is not None else "",
        **module_context(page, lang),
    }
    return render(request, "cases/edit.html", context)


def _saved(request: HttpRequest, case: TumourCase, changed: list[str], only: str | None) -> HttpResponse:
    if changed:
        messages.success(request, _("Saved: %(records)s.") % {"records": ", ".join(changed)})
    else:
        messages.info(request, _("Nothing changed."))
    # Quality control ran inside the save (partner.quality); its findings are listed on the case page.
    found = case.findings.filter(status="open").count()  # type: ignore[attr-defined]
    if found:
        messages.warning(
            request,
            ngettext(
                "Quality control found %(n)s thing to look at: see below.",
                "Quality control found %(n)s things to look at: see below.",
                found,
            )
            % {"n": found},
        )
    anchor = "#quality-heading" if found else ("#forms-heading" if only is not None else "")
    return redirect(reverse("cases:detail", args=[case.pk]) + anchor)


def _seen(data: QueryDict) -> dict[tuple[str, int], int]:
    seen: dict[tuple[str, int], int] = {}
    for item in data.getlist("seen"):
        code, _sep, rest = item.partition(":")
        number, _sep, version = rest.partition(":")
        if number.isdigit() and version.isdigit():
            seen[(code, int(number))] = int(version)
    return seen


def _conflict(
    request: HttpRequest, case: TumourCase, d: Dictionary, lang: str, exc: EditConflict, only: str | None = None
) -> HttpResponse:
    """Both versions side by side; the editor chooses, nothing is saved until they do."""
    clashes = []
    for clash in exc.clashes:
        form = d.form_by_code[clash.form]
        saved = clash.saved.values if clash.saved else {}
        mine = clash.mine or {}
        last = clash.saved.history.select_related("history_user").first() if clash.saved else None
        rows = []
        for f in form.fields:
            if f.computed or (f.code in PATIENT_FIELDS and form.code == "registration"):
                continue
            theirs = _display(f, saved.get(f.code), lang)
            yours = _display(f, _typed(f, mine.get(f.code)), lang) if clash.mine is not None else ""
            if theirs or yours:
                rows.append({"label": f.labels.get(lang), "mine": yours, "saved": theirs, "differs": theirs != yours})
        clashes.append(
            {
                "label": form.labels.get(lang),
                "number": clash.number,
                "removed_by_me": clash.mine is None,
                "deleted": clash.saved is None,
                "who": last.history_user if last else None,
                "when": last.history_date if last else None,
                "rows": rows,
            }
        )
    current = [
        f"{r.form.code}:{r.number}:{r.version}"
        for r in case.records.select_related("form")
        if only is None or r.form.code == only
    ]
    repost = [(k, v) for k, values in request.POST.lists() if k not in ("seen", "csrfmiddlewaretoken") for v in values]
    action = reverse("cases:edit_form", args=[case.pk, only]) if only else reverse("cases:edit", args=[case.pk])
    context = {"case": case, "clashes": clashes, "repost": repost, "current": current, "action": action}
    return render(request, "cases/conflict.html", context, status=409)


def _typed(f: Any, value: Any) -> Any:
    """A typed value as stored, for display beside the saved one."""
    if f.type == "boolean" and value in ("yes", "no"):
        return value == "yes"
    return value


@login_required
@require_POST
def module(request: HttpRequest) -> HttpResponse:
    """The tumour module for the codes being typed (htmx); 204 while the entity stays the same.

    Posted, never asked with a GET: the date of birth, the diagnosis date and the codes stay out of
    URLs, and so out of proxy logs and browser history. On a case's edit page (`module-case`), the
    case's dictionary version and stored values are used.
    """
    data = request.POST.copy()
    case_id = str(data.get("module-case", ""))
    case = (
        visible_case(request, int(case_id), "module form", related=("dictionary_version",))
        if case_id.isdigit()
        else None
    )
    d = get_dictionary(case.dictionary_version.number if case else None)
    lang = request_language(request)
    page = CasePage(d, lang, data, born=str(data.get("module-born", "")))
    if (page.entity or "") == data.get("module-entity", ""):
        return HttpResponse(status=204)
    stored: dict[str, Any] = {}
    if case is not None:
        records = case.records.select_related("form")
        stored = {r.form.code: r.values for r in records if d.form_by_code[r.form.code].is_module}
    page.modules = [DictionaryForm(f, lang, values=stored.get(f.code)) for f in modules_for(d, page.entity)]
    context = module_context(page, lang) | {"born": data.get("module-born", ""), "case": case}
    return render(request, "cases/_module.html", context)


@login_required
def case_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the withdrawal of consent; the case then leaves exports and analyses."""
    case = visible_case(request, pk, "consent withdrawal")
    if hasattr(case, "withdrawal"):
        messages.info(request, _("The consent for this case was already withdrawn."))
        return redirect("cases:detail", pk=case.pk)
    form = WithdrawalForm(request.POST or None, born=case.patient.date_of_birth)
    if request.method == "POST" and form.is_valid():
        try:
            withdrawal = withdraw_consent(
                case=case,
                withdrawn_on=form.cleaned_data["withdrawn_on"],
                erase=form.cleaned_data["extent"] == "erase",
                user=request.user,
                reason=form.cleaned_data["reason"],
            )
        except ChangeRefused as exc:
            form.add_error("extent" if form.cleaned_data["extent"] == "erase" else None, str(exc))
        else:
            if withdrawal.erased:
                messages.success(
                    request,
                    _("Consent withdrawal recorded; erased: %(records)s.")
                    % {"records": ", ".join(withdrawal.erased_records) or "—"},
                )
            else:
                messages.success(request, _("Consent withdrawal recorded: the case has left exports and analyses."))
            return redirect("cases:detail", pk=case.pk)
    return render(request, "cases/withdraw.html", {"case": case, "form": form})
