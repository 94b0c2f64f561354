"""The data-entry pages: registering a case, editing it, and the tumour module that follows its codes.

Both pages are generated from the dictionary version of the case: single forms, repeating rows
(treatment lines, follow-up events) added and removed in the browser, and the tumour module of the
entity the ICD-O-3 codes classify to, swapped in by htmx as the codes are typed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from partner.accounts.models import CENTRE_ROLES, Centre
from partner.dictionary.loader import Dictionary, get_dictionary
from partner.dictionary.schema import FormDef
from partner.lib.icdo import CodeError
from partner.lib.language import request_language
from partner.lib.pseudonym import Identity, pseudonym

from .consent import withdraw_consent
from .editing import EditConflict, Row, save_case
from .forms import DictionaryForm, IdentityForm, RepeatingForm, WithdrawalForm
from .guard import ChangeRefused, check_state
from .models import FormRecord, TumourCase
from .services import CaseInvalid, age_in_years, create_case
from .validation import PATIENT_FIELDS, FormError, validate_case
from .views import _display, visible_case


def _classify(d: Dictionary, morphology: str, topography: str, born: str, diagnosed: str) -> Any:
    """The classification of typed codes, or None while they are incomplete or invalid."""
    if not (morphology and topography):
        return None
    age = None
    with contextlib.suppress(ValueError):
        age = age_in_years(dt.date.fromisoformat(born), dt.date.fromisoformat(diagnosed))
    try:
        return d.classifier.classify(morphology, topography, age if age is None or age >= 0 else None)
    except CodeError:
        return None


def modules_for(d: Dictionary, entity: str | None) -> list[FormDef]:
    return [f for f in d.forms if f.is_module and entity is not None and entity in f.entities]


class CasePage:
    """Every form of one case's page, bound to the POST when there is one."""

    def __init__(
        self,
        d: Dictionary,
        lang: str,
        data: QueryDict | None,
        *,
        records: list[FormRecord] | None = None,
        entity: str | None = None,
        born: str = "",
    ):
        self.d = d
        stored: dict[str, list[FormRecord]] = {}
        for record in records or []:
            stored.setdefault(record.form.code, []).append(record)
        self.stored = stored
        if data is not None:
            diagnosis = "diagnosis-"
            self.classification = _classify(
                d,
                data.get(diagnosis + "morphology", ""),
                data.get(diagnosis + "topography", ""),
                born or data.get("identity-date_of_birth", ""),
                data.get(diagnosis + "diagnosis_date", ""),
            )
            entity = self.classification.entity if self.classification else None
        else:
            self.classification = None
        self.entity = entity
        self.singles: list[DictionaryForm] = []
        self.repeating: list[RepeatingForm] = []
        self.modules: list[DictionaryForm] = []
        for form in d.forms:
            if form.is_module and form not in modules_for(d, entity):
                continue
            if form.repeating:
                self.repeating.append(RepeatingForm(form, lang, data, stored.get(form.code, [])))
                continue
            values = stored[form.code][0].values if form.code in stored else None
            built = DictionaryForm(form, lang, data, skip=set(PATIENT_FIELDS), values=values)
            (self.modules if form.is_module else self.singles).append(built)

    def sections(self) -> list[tuple[str, Any]]:
        """The page in reading order: core forms, the module after the diagnosis, then the rest."""
        out: list[tuple[str, Any]] = []
        singles = {f.definition.code: f for f in self.singles}
        for form in self.d.forms:
            if form.code in singles:
                out.append(("single", singles[form.code]))
                if form.code == "diagnosis":
                    out.append(("module", self.modules))
            elif form.repeating:
                out.append(("repeating", next(r for r in self.repeating if r.definition.code == form.code)))
        return out

    def submitted(self) -> dict[str, list[Row]]:
        """What the editor typed, by form: rows left blank are not records."""
        out: dict[str, list[Row]] = {}
        for form in self.singles + self.modules:
            values = form.raw_values()
            exists = form.definition.code in self.stored
            if values or exists:
                out[form.definition.code] = [Row(1 if exists else None, values)]
        for rep in self.repeating:
            out[rep.definition.code] = [
                Row(number, values) for _key, number, form in rep.rows if (values := form.raw_values()) or number
            ]
        return out

    def is_valid(self) -> bool:
        """The page's own checks, beside each field: a country from the list, dates and numbers as written."""
        rows = [form for rep in self.repeating for _key, _number, form in rep.rows]
        return all([form.is_valid() for form in self.singles + self.modules + rows])

    def show_errors(self, errors: list[Any]) -> list[str]:
        """Put each error beside its field, one message a field; returns those that belong to no field on the page."""
        left: list[str] = []
        forms: dict[tuple[str, int], DictionaryForm] = {(f.definition.code, 1): f for f in self.singles + self.modules}
        for rep in self.repeating:
            rows = [form for _key, _number, form in rep.rows if form.raw_values() or _number]
            forms.update({(rep.definition.code, i): form for i, form in enumerate(rows, start=1)})
        for error in errors:
            form = forms.get((error.form, error.instance))
            if form is not None and error.field in form.fields:
                if error.field not in form.errors:
                    form.add_error(error.field, error.message)
            else:
                left.append(str(error))
        return left


def _module_context(page: CasePage, lang: str) -> dict[str, Any]:
    c = page.classification
    entity = page.d.entity_by_code.get(page.entity) if page.entity else None
    return {
        "modules": page.modules,
        "entity": page.entity or "",
        "entity_name": entity.names.get(lang) if entity else "",
        "classified": c is not None,
    }


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
    context = {"identity": identity, "page": page, "problems": problems, **_module_context(page, lang)}
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
    case = visible_case(request, pk, "edit page", related=("dictionary_version",))
    try:
        check_state(case)
    except ChangeRefused as exc:
        messages.error(request, str(exc))
        return redirect("cases:detail", pk=case.pk)
    d = get_dictionary(case.dictionary_version.number)
    lang = request_language(request)
    records = list(case.records.select_related("form").order_by("form__position", "number"))
    data = request.POST if request.method == "POST" else None
    born = case.patient.date_of_birth.isoformat()
    page = CasePage(d, lang, data, records=records, entity=case.entity.code if case.entity else None, born=born)
    problems: list[str] = []
    if data is not None and page.is_valid():
        seen = _seen(data)
        try:
            changed = save_case(dictionary=d, case=case, forms=page.submitted(), seen=seen, user=request.user)
        except EditConflict as exc:
            return _conflict(request, case, d, lang, exc)
        except ChangeRefused as exc:
            messages.error(request, str(exc))
            return redirect("cases:detail", pk=case.pk)
        except CaseInvalid as exc:
            problems = page.show_errors(exc.errors)
        else:
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
            return redirect(reverse("cases:detail", args=[case.pk]) + ("#quality-heading" if found else ""))
    seen_inputs = [f"{r.form.code}:{r.number}:{r.version}" for r in records]
    if data is not None:
        seen_inputs = data.getlist("seen")
    context = {
        "case": case,
        "page": page,
        "problems": problems,
        "seen": seen_inputs,
        "born": born,
        **_module_context(page, lang),
    }
    return render(request, "cases/edit.html", context)


def _seen(data: QueryDict) -> dict[tuple[str, int], int]:
    seen: dict[tuple[str, int], int] = {}
    for item in data.getlist("seen"):
        code, _sep, rest = item.partition(":")
        number, _sep, version = rest.partition(":")
        if number.isdigit() and version.isdigit():
            seen[(code, int(number))] = int(version)
    return seen


def _conflict(request: HttpRequest, case: TumourCase, d: Dictionary, lang: str, exc: EditConflict) -> HttpResponse:
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
    current = [f"{r.form.code}:{r.number}:{r.version}" for r in case.records.select_related("form")]
    repost = [(k, v) for k, values in request.POST.lists() if k not in ("seen", "csrfmiddlewaretoken") for v in values]
    context = {"case": case, "clashes": clashes, "repost": repost, "current": current}
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
    context = _module_context(page, lang) | {"born": data.get("module-born", ""), "case": case}
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
