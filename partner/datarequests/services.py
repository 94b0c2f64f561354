"""Researcher data requests: submit, decide, withdraw, and the pseudonymised extract of an approved one.

The pages, the REST API and `partner datarequest` all go through these functions. Who sees which
request is decided by `DataRequest.objects.restrict(user)`; what each person may do with a request
they see is checked here.

Which variables and cohort a request may ask for is checked in selection.py; how the extract is
made, and what it holds, is told in extract.py.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from partner.accounts.models import Role
from partner.accounts.security import is_european_coordinator
from partner.cases.models import AccessLog
from partner.dictionary.loader import get_dictionary
from partner.interop.models import ExportLog

from .extract import Extract, build_extract, cohort_frames
from .models import DataRequest, RequestStatus
from .selection import check_cohort, check_variables


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
            "when": formats.date_format(timezone.localtime(data_request.decided_at), "SHORT_DATETIME_FORMAT"),
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


def check_download(data_request: DataRequest, *, user: Any) -> None:
    """PermissionDenied unless `user` made the request and still may; NotNow unless it is approved."""
    if data_request.requester_id != user.pk or not may_request(user):
        raise PermissionDenied(_("Only the researcher who made the request downloads its extract."))
    _approved(data_request)


def download(data_request: DataRequest, *, user: Any, channel: str = AccessLog.Channel.WEB) -> Extract:
    """The extract of an approved request, for the researcher who made it only; logged."""
    check_download(data_request, user=user)
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
