"""Researcher data requests: submit, decide, withdraw, and the pseudonymised extract of an approved one.

The pages, the REST API and `partner datarequest` all go through these functions. Who sees which
request is decided by `DataRequest.objects.restrict(user)`; what each person may do with a request
they see is checked here.

How the extract is made, and what it holds, is told in extract.py.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from partner.accounts.models import Country, Role
from partner.accounts.security import is_european_coordinator
from partner.analysis import AGE_GROUPS
from partner.cases.models import AccessLog
from partner.dictionary.loader import Dictionary, get_dictionary
from partner.dictionary.schema import FieldDef, FormDef
from partner.interop.models import ExportLog

from .extract import COHORT_KEYS, COHORT_LISTS, Extract, build_extract, cohort_frames
from .models import DataRequest, RequestStatus


class NotNow(Exception):
    """The request's status does not allow this (e.g. a second decision): answered 409."""


# --- who may do what ---------------------------------------------------------------------------


def may_request(user: Any) -> bool:
    """Only researchers submit data requests."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.memberships.filter(role=Role.RESEARCHER).exists()


def may_review(user: Any) -> bool:
    """The European coordinator (or an administrator) sees every request and decides on them."""
    return bool(user.is_authenticated and user.is_active and is_european_coordinator(user))


def may_use(user: Any) -> bool:
    return may_request(user) or may_review(user)


def visible(user: Any) -> Any:
    return DataRequest.objects.restrict(user).select_related("requester", "decided_by")


# --- checking a request ------------------------------------------------------------------------


def requestable_fields(dictionary: Dictionary) -> list[tuple[FormDef, list[FieldDef]]]:
    """The fields a request may name, by form: all but the registry's pseudonym."""
    return [(form, [f for f in form.fields if f.computed != "pseudonym"]) for form in dictionary.forms]


def check_variables(variables: Any, dictionary: Dictionary) -> list[str]:
    """The variables as `form.field`, each once, in the dictionary's order; ValidationError naming each bad one."""
    if isinstance(variables, str) or not isinstance(variables, Iterable):
        raise ValidationError({"variables": [_("Give the variables as a list of form.field.")]})
    errors: list[str] = []
    chosen: set[str] = set()
    for variable in variables:
        if not isinstance(variable, str):
            errors.append(_("“%(variable)s” is not a variable: give it as form.field.") % {"variable": variable})
            continue
        form_code, dot, field_code = variable.strip().partition(".")
        form = dictionary.form_by_code.get(form_code)
        found = next((f for f in form.fields if f.code == field_code), None) if form else None
        if not dot or not form_code or not field_code:
            errors.append(
                _("“%(variable)s” is not a variable: give it as form.field, e.g. diagnosis.morphology.")
                % {"variable": variable}
            )
        elif form is None:
            errors.append(
                _("Unknown variable “%(variable)s”: the data dictionary v%(v)s has no form %(form)s.")
                % {"variable": variable, "v": dictionary.number, "form": form_code}
            )
        elif found is None:
            errors.append(
                _(
                    "Unknown variable “%(variable)s”: "
                    "the form %(form)s of the data dictionary v%(v)s has no field %(field)s."
                )
                % {"variable": variable, "form": form_code, "v": dictionary.number, "field": field_code}
            )
        elif found.computed == "pseudonym":
            errors.append(
                _(
                    "The variable “%(variable)s” is the registry's pseudonym, which never leaves the registry: "
                    "each extract has its own row id instead."
                )
                % {"variable": variable}
            )
        else:
            chosen.add(f"{form_code}.{field_code}")
    if errors:
        raise ValidationError({"variables": errors})
    if not chosen:
        raise ValidationError({"variables": [_("Choose at least one variable.")]})
    return [
        f"{form.code}.{f.code}" for form in dictionary.forms for f in form.fields if f"{form.code}.{f.code}" in chosen
    ]


def sex_choices(dictionary: Dictionary, language: str = "en") -> list[tuple[str, str]]:
    """The sexes of the registration form, as the cohort filters them."""
    registration = dictionary.form_by_code.get("registration")
    sex = next((f for f in registration.fields if f.code == "sex"), None) if registration else None
    return [(c.code, c.labels.get(language)) for c in sex.choices] if sex else []


def _texts(value: Any, key: str, errors: dict[str, list[str]]) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        errors[key] = [_("Give %(filter)s as a list of texts.") % {"filter": key}]
        return []
    return list(dict.fromkeys(v.strip() for v in value if v.strip()))


def _date(value: Any, key: str, errors: dict[str, list[str]]) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        errors[key] = [_("“%(value)s” is not a date: give it as YYYY-MM-DD.") % {"value": value}]
        return None


def check_cohort(cohort: Any, dictionary: Dictionary) -> dict[str, Any]:
    """The cohort's filters, checked and in the stored shape; ValidationError keyed `cohort.<filter>`."""
    if cohort is None:
        cohort = {}
    if not isinstance(cohort, Mapping):
        raise ValidationError({"cohort": [_("Give the cohort as an object of filters.")]})
    errors: dict[str, list[str]] = {}
    unknown = sorted(str(k) for k in cohort if k not in COHORT_KEYS)
    if unknown:
        errors["cohort"] = [
            _("Unknown cohort filter “%(filter)s”: use %(known)s.") % {"filter": key, "known": ", ".join(COHORT_KEYS)}
            for key in unknown
        ]
    out: dict[str, Any] = {key: _texts(cohort.get(key), f"cohort.{key}", errors) for key in COHORT_LISTS}
    out["countries"] = [code.upper() for code in out["countries"]]
    allowed = {
        "entities": set(dictionary.entity_by_code),
        "countries": set(Country.objects.values_list("code", flat=True)),
        "age_groups": set(AGE_GROUPS),
        "sexes": {code for code, _label in sex_choices(dictionary)},
    }
    names = {
        "entities": _("entity"),
        "countries": _("country"),
        "age_groups": _("age group"),
        "sexes": _("sex"),
    }
    for key, known in allowed.items():
        bad = [value for value in out[key] if value not in known]
        if bad:
            errors[f"cohort.{key}"] = [
                _("Unknown %(what)s “%(value)s”: use one of %(known)s.")
                % {"what": names[key], "value": value, "known": ", ".join(sorted(known))}
                for value in bad
            ]
    long = [stage for stage in out["stages"] if len(stage) > 40]
    if long:
        errors["cohort.stages"] = [_("A stage group has at most 40 characters: “%(value)s”.") % {"value": long[0]}]
    start = _date(cohort.get("period_start"), "cohort.period_start", errors)
    end = _date(cohort.get("period_end"), "cohort.period_end", errors)
    if start and end and start > end:
        errors["cohort.period_end"] = [_("The end of the diagnosis period is before its start.")]
    if errors:
        raise ValidationError(errors)
    out["period_start"] = start.isoformat() if start else None
    out["period_end"] = end.isoformat() if end else None
    return out


# --- the life of a request ----------------------------------------------------------------------


def _saved(data_request: DataRequest, user: Any) -> DataRequest:
    data_request._history_user = user  # type: ignore[attr-defined]
    data_request.save()
    return data_request


@transaction.atomic
def submit(*, user: Any, title: str, purpose: str, variables: Any, cohort: Any) -> DataRequest:
    """A researcher's new request, checked against the data dictionary in force."""
    if not may_request(user):
        raise PermissionDenied(_("Only researchers submit data requests."))
    dictionary = get_dictionary()
    errors: dict[str, list[str]] = {}
    title, purpose = (title or "").strip(), (purpose or "").strip()
    if not title:
        errors["title"] = [_("Give the request a title.")]
    elif len(title) > 200:
        errors["title"] = [_("The title has at most 200 characters.")]
    if not purpose:
        errors["purpose"] = [_("Say what the data are for: the question, the analysis, who will see the data.")]
    elif len(purpose) > 10000:
        errors["purpose"] = [_("The purpose has at most 10,000 characters.")]
    checked: dict[str, Any] = {}
    for key, check, value in (("variables", check_variables, variables), ("cohort", check_cohort, cohort)):
        try:
            checked[key] = check(value, dictionary)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    data_request = DataRequest(
        requester=user,
        title=title,
        purpose=purpose,
        variables=checked["variables"],
        cohort=checked["cohort"],
        dictionary_version=dictionary.number,
    )
    return _saved(data_request, user)


def _locked(data_request: DataRequest) -> DataRequest:
    # Only the request's row: PostgreSQL refuses to lock the nullable side of the outer join to decided_by.
    locked = DataRequest.objects.select_for_update(of=("self",))
    return locked.select_related("requester", "decided_by").get(pk=data_request.pk)


def _status_text(data_request: DataRequest) -> str:
    if data_request.decided_by is not None and data_request.decided_at is not None:
        return _("%(status)s by %(who)s on %(when)s") % {
            "status": data_request.get_status_display(),
            "who": data_request.decided_by.get_username(),
            "when": timezone.localtime(data_request.decided_at).strftime("%Y-%m-%d %H:%M"),
        }
    return str(data_request.get_status_display())


@transaction.atomic
def decide(data_request: DataRequest, *, user: Any, decision: str, note: str = "") -> DataRequest:
    """Approve or reject a submitted request (the European coordinator); a reason is required to reject."""
    if not may_review(user):
        raise PermissionDenied(_("Only the European coordinator decides on data requests."))
    if decision not in (RequestStatus.APPROVED, RequestStatus.REJECTED):
        raise ValidationError({"decision": [_("Decide “approved” or “rejected”.")]})
    data_request = _locked(data_request)
    if data_request.requester_id == user.pk:
        raise PermissionDenied(_("A request is decided by someone other than the researcher who made it."))
    if data_request.status != RequestStatus.SUBMITTED:
        raise NotNow(
            _("Request #%(id)s is already %(status)s: only a submitted request can be decided.")
            % {"id": data_request.pk, "status": _status_text(data_request)}
        )
    note = (note or "").strip()
    if decision == RequestStatus.REJECTED and not note:
        raise ValidationError({"note": [_("Give the reason for rejecting the request: the researcher reads it.")]})
    if len(note) > 5000:
        raise ValidationError({"note": [_("The note has at most 5,000 characters.")]})
    data_request.status = decision
    data_request.decided_by = user
    data_request.decided_at = timezone.now()
    data_request.decision_note = note
    return _saved(data_request, user)


@transaction.atomic
def withdraw(data_request: DataRequest, *, user: Any) -> DataRequest:
    """The researcher takes back a request that is not decided yet."""
    data_request = _locked(data_request)
    if data_request.requester_id != user.pk:
        raise PermissionDenied(_("Only the researcher who made a request withdraws it."))
    if data_request.status != RequestStatus.SUBMITTED:
        raise NotNow(
            _("Request #%(id)s is %(status)s: only a submitted request can be withdrawn.")
            % {"id": data_request.pk, "status": _status_text(data_request)}
        )
    data_request.status = RequestStatus.WITHDRAWN
    return _saved(data_request, user)


# --- the extract, downloaded and logged -----------------------------------------------------------


def cohort_size(data_request: DataRequest) -> int:
    """How many cases the request's cohort selects now, among those an extract may take."""
    return len(cohort_frames(data_request)[1])


def _record(data_request: DataRequest, extract: Extract, *, user: Any, destination: str, channel: str | None) -> None:
    """Log the extract (export log, a read of each case by a person) and count it on the request."""
    ExportLog.objects.create(
        user=user,
        format=ExportLog.Format.CSV,
        case_count=len(extract.case_ids),
        case_ids=extract.case_ids,
        destination=destination[:500],
    )
    if user is not None and channel is not None:
        what = f"data request {data_request.pk}"[:40]
        AccessLog.objects.bulk_create(
            [AccessLog(user=user, case_id=i, channel=channel, what=what) for i in extract.case_ids], batch_size=500
        )
    data_request.download_count += 1
    data_request.last_downloaded_at = timezone.now()
    _saved(data_request, user)


def _approved(data_request: DataRequest) -> None:
    if data_request.status != RequestStatus.APPROVED:
        raise NotNow(
            _("Request #%(id)s is %(status)s: only an approved request has an extract.")
            % {"id": data_request.pk, "status": _status_text(data_request)}
        )


def download(data_request: DataRequest, *, user: Any, channel: str = AccessLog.Channel.WEB) -> Extract:
    """The extract of an approved request, for the researcher who made it only; logged."""
    if data_request.requester_id != user.pk or not may_request(user):
        raise PermissionDenied(_("Only the researcher who made the request downloads its extract."))
    _approved(data_request)
    extract = build_extract(data_request)
    with transaction.atomic():
        data_request = _locked(data_request)
        _approved(data_request)
        _record(
            data_request, extract, user=user, destination=f"data request #{data_request.pk}: download", channel=channel
        )
    return extract


def write_extract(data_request: DataRequest, out: Path | str) -> Extract:
    """The registry writes the extract of an approved request to a file (the command line); logged.

    The file appears whole or not at all: it is written beside `out` and moved in once logged.
    """
    _approved(data_request)
    out = Path(out)
    if out.is_dir():
        raise ValidationError(_("%(path)s is a folder: give the name of the zip file to write.") % {"path": out})
    extract = build_extract(data_request)
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(extract.content)
        with transaction.atomic():
            data_request = _locked(data_request)
            _approved(data_request)
            destination = f"data request #{data_request.pk}: {out.resolve()}"
            _record(data_request, extract, user=None, destination=destination, channel=None)
            os.replace(staging, out)
    finally:
        if os.path.exists(staging):
            os.unlink(staging)
    return extract


# --- reading a request --------------------------------------------------------------------------


def history(data_request: DataRequest) -> list[dict[str, Any]]:
    """What happened to the request, newest first: submitted, decided, withdrawn, each download."""
    rows: list[dict[str, Any]] = []
    previous = None
    for version in data_request.history.order_by("history_date", "history_id").select_related("history_user"):
        note = ""
        event: str
        if previous is None:
            event = _("submitted")
        elif version.status != previous.status:
            event = str(RequestStatus(version.status).label)
            note = version.decision_note
        elif version.download_count != previous.download_count:
            event = _("extract downloaded (%(n)s)") % {"n": version.download_count}
        else:
            event = _("changed")
        who = version.history_user.get_username() if version.history_user else _("the registry (command line)")
        rows.append({"when": version.history_date, "who": who, "event": event, "note": note})
        previous = version
    return rows[::-1]


def variable_groups(dictionary: Dictionary, language: str = "en", chosen: Iterable[str] = ()) -> list[dict[str, Any]]:
    """The requestable variables by form, with their labels, marking those chosen."""
    wanted = set(chosen)
    entities = dictionary.entity_by_code
    groups = []
    for form, fields in requestable_fields(dictionary):
        if not fields:
            continue
        items = [
            {
                "ref": f"{form.code}.{f.code}",
                "label": f.labels.get(language),
                "chosen": f"{form.code}.{f.code}" in wanted,
            }
            for f in fields
        ]
        groups.append(
            {
                "code": form.code,
                "label": form.labels.get(language),
                "repeating": form.repeating,
                "module": form.is_module,
                # the entities a module is for, unless its own name already says it
                "entities": [
                    entities[e].names.get(language)
                    for e in form.entities
                    if e in entities and entities[e].names.get(language) != form.labels.get(language)
                ],
                "variables": items,
                "chosen": sum(1 for item in items if item["chosen"]),
            }
        )
    return groups


def describe_cohort(cohort: Mapping[str, Any], dictionary: Dictionary, language: str = "en") -> list[tuple[str, str]]:
    """The cohort's filters in words, for the pages and the command."""
    entities = dictionary.entity_by_code
    countries = dict(Country.objects.values_list("code", "name"))
    sexes = dict(sex_choices(dictionary, language))
    everything = _("all")
    start, end = cohort.get("period_start"), cohort.get("period_end")
    if start and end:
        period = _("%(start)s to %(end)s") % {"start": start, "end": end}
    elif start:
        period = _("from %(start)s") % {"start": start}
    elif end:
        period = _("until %(end)s") % {"end": end}
    else:
        period = everything
    return [
        (
            _("Entities"),
            ", ".join(entities[e].names.get(language) if e in entities else e for e in cohort.get("entities") or [])
            or everything,
        ),
        (_("Countries"), ", ".join(countries.get(c, c) for c in cohort.get("countries") or []) or everything),
        (_("Diagnosed"), period),
        (_("Age groups (years at diagnosis)"), ", ".join(cohort.get("age_groups") or []) or everything),
        (_("Sexes"), ", ".join(sexes.get(s, s) for s in cohort.get("sexes") or []) or everything),
        (_("Stage groups"), ", ".join(cohort.get("stages") or []) or everything),
    ]
