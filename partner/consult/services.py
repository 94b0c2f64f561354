"""What may be done with a consultation, by whom, in one place: the web pages, the API and the
commands all call these functions. Each change is one transaction; each read by a person is written
to the case's access log.

Mails say which request and where to read it, never the question, the summary or the
recommendation: free text may hold clinical detail that has no place in e-mail.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from partner.accounts.models import CENTRE_ROLES, Role
from partner.cases.models import AccessLog, TumourCase
from partner.cases.scoping import coordinates, in_scope
from partner.cases.services import current_forms
from partner.dictionary.loader import Dictionary, get_dictionary

from .models import (
    DUE_DAYS,
    Adherence,
    Assignment,
    Attachment,
    Consultation,
    ConsultationStatus,
    Message,
    PanelMember,
    Recommendation,
    Urgency,
)
from .uploads import checked_upload

log = logging.getLogger(__name__)

#: A panel's recommendation needs this many assigned experts, from at least `MIN_COUNTRIES` countries.
MIN_EXPERTS = 3
MIN_COUNTRIES = 2
REMINDER_INTERVAL = dt.timedelta(days=1)

#: Forms whose content never goes into the summary the experts read.
PRIVATE_FORMS = {"consent"}
#: Fields that would identify the child; dates are given as days from diagnosis instead.
PRIVATE_FIELDS = {"date_of_birth", "pseudonym"}
#: Free text longer than this may name a person or a place: left out of the summary.
SHORT_TEXT = 40


# --- who may do what ---------------------------------------------------------------------------


def is_expert(user: Any) -> bool:
    return bool(user.is_authenticated and user.memberships.filter(role=Role.EXPERT).exists())


def may_request(user: Any, case: TumourCase) -> bool:
    """A clinician or data manager whose scope holds the case."""
    if not user.is_authenticated or not user.is_active:
        return False
    return in_scope(user, case) and user.memberships.filter(role__in=CENTRE_ROLES).exists()


def visible(user: Any) -> QuerySet[Consultation]:
    """The requests a user may read: those on cases in their scope, and those assigned to them."""
    if not user.is_authenticated or not user.is_active:
        return Consultation.objects.none()
    scoped = Q(case__in=TumourCase.objects.restrict(user))
    return Consultation.objects.filter(scoped | Q(assignments__expert=user)).distinct()


def get_visible(user: Any, pk: int) -> Consultation:
    """The request, or 404 when it is not the user's to see (never a 403 that tells it exists)."""
    try:
        return visible(user).select_related("case__centre__country", "case__entity", "requested_by").get(pk=pk)
    except Consultation.DoesNotExist:
        raise Http404("no such consultation") from None


def is_assigned(user: Any, consultation: Consultation) -> bool:
    return consultation.assignments.filter(expert=user).exists()


def may_coordinate(user: Any, consultation: Consultation) -> bool:
    return coordinates(user, consultation.case)


def may_follow_up(user: Any, consultation: Consultation) -> bool:
    """The case's own centre records whether the recommendation was followed."""
    return (
        consultation.status == ConsultationStatus.SENT
        and user.memberships.filter(role__in=CENTRE_ROLES, centre_id=consultation.case.centre_id).exists()
    )


def may_read_letter(user: Any, consultation: Consultation) -> bool:
    """The letter names the requesting clinician and centre: for those whose scope holds the case, not for
    the experts who read only the request's pseudonymised summary."""
    return TumourCase.objects.restrict(user).filter(pk=consultation.case_id).exists()


def log_read(user: Any, consultation: Consultation, what: str, channel: str = AccessLog.Channel.WEB) -> None:
    AccessLog.objects.create(user=user, case=consultation.case, channel=channel, what=f"consultation {what}"[:40])


# --- the summary the experts read --------------------------------------------------------------


def summary_of(case: TumourCase, dictionary: Dictionary | None = None) -> dict[str, Any]:
    """The case as the panel may read it: no identifier, no centre, dates as days from diagnosis.

    Forms are kept by code with their values as stored (choices as codes), so the summary is shown
    in each reader's language; a date becomes {"days": N} from the diagnosis.
    """
    d = dictionary or get_dictionary(case.dictionary_version.number)
    forms = current_forms(d, case)
    diagnosed = case.diagnosis_date
    born = forms.get("registration", {}).get("date_of_birth")
    age = None
    if born and diagnosed:
        age = round((diagnosed - dt.date.fromisoformat(born)).days / 365.25, 1)

    def kept(form_code: str, values: dict[str, Any]) -> dict[str, Any]:
        form = d.form_by_code[form_code]
        out: dict[str, Any] = {}
        for f in form.fields:
            value = values.get(f.code)
            if f.code in PRIVATE_FIELDS or value in (None, "", []):
                continue
            if f.type == "date":
                if diagnosed is None:
                    continue
                out[f.code] = {"days": (dt.date.fromisoformat(str(value)) - diagnosed).days}
            elif f.type == "text" and (f.max_length or SHORT_TEXT + 1) > SHORT_TEXT:
                continue
            else:
                out[f.code] = value
        return out

    summary: dict[str, Any] = {
        "entity": case.entity.code if case.entity else None,
        "country": case.centre.country.code,
        "age_at_diagnosis": age,
        "diagnosis_year": diagnosed.year if diagnosed else None,
        "dictionary_version": d.number,
        "forms": {},
    }
    for code, values in forms.items():
        if code in PRIVATE_FORMS or code not in d.form_by_code:
            continue
        if isinstance(values, list):
            rows = [kept(code, row) for row in values]
            summary["forms"][code] = [row for row in rows if row]
        else:
            summary["forms"][code] = kept(code, values)
    return summary


def summary_rows(summary: dict[str, Any], language: str = "en") -> list[dict[str, Any]]:
    """The summary for a page or a letter: per form, its label and (label, text) pairs, a list per row
    for a repeating form."""
    d = get_dictionary(summary.get("dictionary_version"))
    sections = []
    for code, content in summary.get("forms", {}).items():
        form = d.form_by_code.get(code)
        if form is None or not content:
            continue
        fields = {f.code: f for f in form.fields}

        def pairs(values: dict[str, Any], fields: dict[str, Any] = fields) -> list[tuple[str, str]]:
            shown = []
            for key, value in values.items():
                f = fields.get(key)
                if f is None:
                    continue
                shown.append((f.labels.get(language), _display(f, value, language)))
            return shown

        rows = [pairs(row) for row in content] if isinstance(content, list) else [pairs(content)]
        sections.append({"code": code, "label": form.labels.get(language), "rows": rows, "repeating": form.repeating})
    return sections


def _display(f: Any, value: Any, language: str) -> str:
    if isinstance(value, dict) and "days" in value:
        days = value["days"]
        if days == 0:
            return _("at diagnosis")
        if days > 0:
            return _("day %(n)s after diagnosis") % {"n": days}
        return _("%(n)s days before diagnosis") % {"n": -days}
    labels = {c.code: c.labels.get(language) for c in f.choices}
    if isinstance(value, list):
        return ", ".join(labels.get(v, str(v)) for v in value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    text = labels.get(value, str(value))
    return f"{text} {f.unit}" if f.unit and not labels else text


# --- the request -------------------------------------------------------------------------------


def submit(
    case: TumourCase,
    user: Any,
    *,
    question: str,
    urgency: str = Urgency.ROUTINE,
    attachments: Iterable[tuple[str, str, bytes]] = (),
) -> Consultation:
    """A request to the panel of the case's entity, with (kind, file name, content) attachments."""
    if not may_request(user, case):
        raise PermissionDenied("only the case's centre asks the expert panel")
    if case.entity is None or not case.entity.panel:
        raise ValidationError(_("This case is not classified as a very rare tumour: no expert panel answers for it."))
    if not question.strip():
        raise ValidationError(_("Write the clinical question."))
    if urgency not in Urgency.values:
        raise ValidationError(_("Choose the urgency."))
    checked = [(kind, checked_upload(name, content)) for kind, name, content in attachments]
    now = timezone.now()
    with _files_undone_on_error():
        consultation = Consultation.objects.create(
            case=case,
            panel=case.entity.panel,
            question=question.strip(),
            urgency=urgency,
            summary=summary_of(case),
            requested_by=user,
            submitted_at=now,
            due=now + dt.timedelta(days=DUE_DAYS[Urgency(urgency)]),
        )
        for kind, upload in checked:
            _store_attachment(consultation, user, kind, upload)
        transaction.on_commit(lambda: _mail_coordinators(consultation.pk))
    return consultation


def add_attachment(consultation: Consultation, user: Any, kind: str, name: str, content: bytes) -> Attachment:
    if not (consultation.requested_by_id == user.pk or may_request(user, consultation.case)):
        raise PermissionDenied("only the requesting centre adds attachments")
    if consultation.status in (ConsultationStatus.SENT, ConsultationStatus.WITHDRAWN):
        raise ValidationError(_("The request is closed."))
    upload = checked_upload(name, content)
    with _files_undone_on_error():
        return _store_attachment(consultation, user, kind, upload)


def _store_attachment(consultation: Consultation, user: Any, kind: str, upload: Any) -> Attachment:
    """Write the file, then its row. The caller's transaction deletes the file again if it rolls back
    (see `_files_undone_on_error`), so a refused request leaves no file behind."""
    if kind not in Attachment.Kind.values:
        raise ValidationError(_("Choose the kind of the attachment."))
    attachment = Attachment(
        consultation=consultation,
        kind=kind,
        name=upload.name,
        content_type=upload.content_type,
        extension=upload.extension,
        size=len(upload.content),
        sha256=hashlib.sha256(upload.content).hexdigest(),
        uploaded_by=user,
    )
    attachment.file.save(f"{attachment.sha256}.{upload.extension}", ContentFile(upload.content), save=False)
    _written.get().append((attachment.file.storage, str(attachment.file.name)))
    attachment.save()
    return attachment


#: Files written inside the current request's transaction, to delete if it fails: one list per request
#: (a context variable, not a module list two threads of one server would share and clear for each other).
_written: ContextVar[list[tuple[Any, str]]] = ContextVar("consult_files_written")


@contextmanager
def _files_undone_on_error() -> Iterator[None]:
    """One transaction whose files are deleted again when it does not commit."""
    written: list[tuple[Any, str]] = []
    token = _written.set(written)
    try:
        with transaction.atomic():
            yield
    except BaseException:
        for storage, name in written:
            storage.delete(name)
        raise
    finally:
        _written.reset(token)


def withdraw(consultation: Consultation, user: Any) -> None:
    if consultation.requested_by_id != user.pk and not may_coordinate(user, consultation):
        raise PermissionDenied("only the requester or a coordinator withdraws a request")
    if consultation.status == ConsultationStatus.SENT:
        raise ValidationError(_("The recommendation was sent: the request can no longer be withdrawn."))
    consultation.status = ConsultationStatus.WITHDRAWN
    consultation._change_reason = "withdrawn"  # type: ignore[attr-defined]
    consultation.save(update_fields=["status"])


# --- the panel ---------------------------------------------------------------------------------


def candidates(consultation: Consultation) -> QuerySet[PanelMember]:
    """The active members of the request's panel who may be assigned: any but those assigned already."""
    assigned = consultation.assignments.values("expert")
    return (
        PanelMember.objects.filter(panel=consultation.panel, active=True, user__is_active=True)
        .exclude(user__in=assigned)
        .select_related("user", "country")
        .order_by("country__code", "user__last_name", "user__username")
    )


def assign(consultation: Consultation, by: Any, experts: Iterable[Any]) -> list[Assignment]:
    """Assign panel members; together with those already assigned there must be at least three, from
    at least two countries."""
    if not may_coordinate(by, consultation):
        raise PermissionDenied("only a coordinator whose scope holds the case assigns experts")
    if consultation.status in (ConsultationStatus.SENT, ConsultationStatus.WITHDRAWN):
        raise ValidationError(_("The request is closed."))
    members = {m.user_id: m for m in candidates(consultation)}
    chosen = list(experts)
    strangers = [str(e) for e in chosen if e.pk not in members]
    if strangers:
        raise ValidationError(
            _("Not an active member of this panel, or assigned already: %(names)s.") % {"names": ", ".join(strangers)}
        )
    existing = list(consultation.assignments.values_list("country_id", flat=True))
    countries = set(existing) | {members[e.pk].country_id for e in chosen}
    if len(existing) + len(chosen) < MIN_EXPERTS or len(countries) < MIN_COUNTRIES:
        raise ValidationError(
            _("A panel needs at least %(experts)s experts from at least %(countries)s countries.")
            % {"experts": MIN_EXPERTS, "countries": MIN_COUNTRIES}
        )
    with transaction.atomic():
        made = [
            Assignment.objects.create(
                consultation=consultation, expert=e, country_id=members[e.pk].country_id, assigned_by=by
            )
            for e in chosen
        ]
        if consultation.status == ConsultationStatus.SUBMITTED:
            consultation.status = ConsultationStatus.ASSIGNED
            consultation.save(update_fields=["status"])
        ids = [e.pk for e in chosen]
        transaction.on_commit(lambda: _mail_experts(consultation.pk, ids, _("A consultation is assigned to you")))
    return made


def _responded(consultation: Consultation, user: Any) -> None:
    if consultation.first_response_at is None and is_assigned(user, consultation):
        consultation.first_response_at = timezone.now()
        consultation.save(update_fields=["first_response_at"])


def post_message(consultation: Consultation, user: Any, text: str) -> Message:
    """A message in the request's thread, from an assigned expert, the requesting centre or a coordinator."""
    if not (
        is_assigned(user, consultation) or may_request(user, consultation.case) or may_coordinate(user, consultation)
    ):
        raise PermissionDenied("not one of this request's people")
    if consultation.status == ConsultationStatus.WITHDRAWN:
        raise ValidationError(_("The request is withdrawn."))
    if not text.strip():
        raise ValidationError(_("Write a message."))
    with transaction.atomic():
        message = Message.objects.create(consultation=consultation, author=user, text=text.strip())
        _responded(consultation, user)
    return message


def draft(consultation: Consultation, expert: Any, text: str, *, version: int | None = None) -> Recommendation:
    """Write or revise the panel's recommendation; a revision asks every expert to vote again. With
    `version` (0 for none yet), the draft the expert read: a revision made meanwhile is not overwritten."""
    if not is_assigned(expert, consultation):
        raise PermissionDenied("only an assigned expert drafts the recommendation")
    if consultation.status != ConsultationStatus.ASSIGNED:
        raise ValidationError(_("The recommendation can be drafted only while the request is with the panel."))
    if not text.strip():
        raise ValidationError(_("Write the recommendation."))
    now = timezone.now()
    with transaction.atomic():
        # Locked as a vote locks it: a revision and a last vote, or two revisions, are taken one after the other.
        if (
            Consultation.objects.select_for_update(of=("self",)).get(pk=consultation.pk).status
            != ConsultationStatus.ASSIGNED
        ):
            raise ValidationError(_("The request is no longer with the panel."))
        recommendation = Recommendation.objects.filter(consultation=consultation).first()
        if version is not None and version != (recommendation.version if recommendation else 0):
            raise ValidationError(
                _("The recommendation was revised since you read it: read it again before you change it.")
            )
        if recommendation is None:
            recommendation = Recommendation.objects.create(
                consultation=consultation, text=text.strip(), drafted_by=expert, drafted_at=now
            )
        elif recommendation.text != text.strip():
            recommendation.text = text.strip()
            recommendation.version += 1
            recommendation.drafted_by = expert
            recommendation.drafted_at = now
            recommendation.save()
            for assignment in consultation.assignments.exclude(vote=""):
                assignment.vote, assignment.vote_comment, assignment.voted_at = "", "", None
                assignment._change_reason = f"recommendation revised to version {recommendation.version}"  # type: ignore[attr-defined]
                assignment.save()
        _responded(consultation, expert)
    return recommendation


def vote(
    consultation: Consultation, expert: Any, choice: str, comment: str = "", *, version: int | None = None
) -> bool:
    """An assigned expert agrees with the current draft or dissents (with a reason). Returns whether the
    recommendation is now agreed, and sent."""
    assignment = consultation.assignments.filter(expert=expert).first()
    if assignment is None:
        raise PermissionDenied("only an assigned expert votes")
    recommendation = Recommendation.objects.filter(consultation=consultation).first()
    if consultation.status != ConsultationStatus.ASSIGNED or recommendation is None:
        raise ValidationError(_("There is no draft recommendation to vote on."))
    if choice not in Assignment.Vote.values:
        raise ValidationError(_("Agree or dissent."))
    if choice == Assignment.Vote.DISSENT and not comment.strip():
        raise ValidationError(_("Say why you dissent."))
    with transaction.atomic():
        # The request's row is locked (PostgreSQL; SQLite writers queue anyway), so two last votes, or a
        # vote and a withdrawal, arriving together are taken one after the other: one letter at most.
        locked = Consultation.objects.select_for_update(of=("self",)).get(pk=consultation.pk)
        if locked.status != ConsultationStatus.ASSIGNED:
            raise ValidationError(_("The request is no longer with the panel."))
        current = Recommendation.objects.get(consultation=consultation).version  # as it is once locked
        if version is not None and version != current:
            raise ValidationError(_("The recommendation was revised since you read it: read it again before you vote."))
        assignment.vote, assignment.vote_comment, assignment.voted_at = choice, comment.strip(), timezone.now()
        assignment.save()
        _responded(locked, expert)
        if agreed(locked):
            send(locked)
            consultation.refresh_from_db()
            return True
    return False


def agreed(consultation: Consultation) -> bool:
    """Every assigned expert has voted on the current draft and at least three agree."""
    votes = list(consultation.assignments.values_list("vote", flat=True))
    return all(votes) and votes.count(Assignment.Vote.AGREE) >= MIN_EXPERTS


def send(consultation: Consultation) -> None:
    """Write the letter, store it with the case, tell the requester."""
    from .letter import render_letter

    recommendation = consultation.recommendation
    consultation.status = ConsultationStatus.SENT
    consultation.sent_at = timezone.now()  # the letter's date
    pdf = render_letter(consultation)
    recommendation.letter.save(f"consultation-{consultation.pk}-v{recommendation.version}.pdf", ContentFile(pdf))
    consultation._change_reason = "recommendation agreed and sent"  # type: ignore[attr-defined]
    consultation.save(update_fields=["status", "sent_at"])  # never writes back a stale copy's other fields
    transaction.on_commit(lambda: _mail_requester(consultation.pk))


def record_adherence(
    consultation: Consultation, user: Any, *, followed: str, outcome: str, reason: str = ""
) -> Adherence:
    if not may_follow_up(user, consultation):
        raise PermissionDenied("the case's centre records the follow-up of a sent recommendation")
    if followed not in Adherence.Followed.values or outcome not in Adherence.Outcome.values:
        raise ValidationError(_("Say whether the recommendation was followed, and the outcome."))
    if followed != Adherence.Followed.YES and not reason.strip():
        raise ValidationError(_("Say what was done instead, or why."))
    with transaction.atomic():
        adherence, _created = Adherence.objects.update_or_create(
            consultation=consultation,
            defaults={"followed": followed, "outcome": outcome, "reason": reason.strip(), "recorded_by": user},
        )
    return adherence


# --- mails -------------------------------------------------------------------------------------


def _link(consultation_id: int) -> str:
    return reverse("consult:detail", args=[consultation_id])


def _send(addresses: Iterable[str], subject: str, body: str) -> int:
    sent = 0
    for address in sorted({a for a in addresses if a}):
        try:
            sent += send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
        except OSError:
            log.exception("could not send a consultation mail")
    return sent


def _mail_coordinators(consultation_id: int) -> int:
    consultation = Consultation.objects.select_related("case__centre").get(pk=consultation_id)
    users = get_user_model().objects.filter(
        Q(memberships__role=Role.EUROPEAN_COORDINATOR)
        | Q(memberships__role=Role.NATIONAL_COORDINATOR, memberships__country_id=consultation.case.centre.country_id),
        is_active=True,
    )
    body = _("A consultation request waits for its experts: %(link)s") % {"link": _link(consultation_id)}
    return _send((u.email for u in users), _("New consultation request"), body)


def _mail_experts(consultation_id: int, expert_ids: list[int], subject: str) -> int:
    users = get_user_model().objects.filter(pk__in=expert_ids, is_active=True)
    body = _("Read the request and its thread: %(link)s") % {"link": _link(consultation_id)}
    return _send((u.email for u in users), subject, body)


def _mail_requester(consultation_id: int) -> int:
    consultation = Consultation.objects.select_related("requested_by").get(pk=consultation_id)
    body = _("The expert panel's recommendation is ready, with its letter: %(link)s") % {"link": _link(consultation_id)}
    return _send([consultation.requested_by.email], _("Recommendation of the expert panel"), body)


def remind(now: dt.datetime | None = None) -> int:
    """Remind the experts of open requests past their due date (or the coordinators, when nobody is
    assigned yet), at most once a day. Returns the number of requests reminded."""
    now = now or timezone.now()
    overdue = Consultation.objects.filter(
        status__in=[ConsultationStatus.SUBMITTED, ConsultationStatus.ASSIGNED], due__lt=now
    ).filter(Q(reminded_at__isnull=True) | Q(reminded_at__lte=now - REMINDER_INTERVAL))
    count = 0
    for consultation in overdue:
        waiting = list(consultation.assignments.filter(vote="").values_list("expert_id", flat=True))
        if waiting:
            _mail_experts(consultation.pk, waiting, _("Reminder: a consultation is past its due date"))
        else:
            _mail_coordinators(consultation.pk)
        Consultation.objects.filter(pk=consultation.pk).update(reminded_at=now)
        count += 1
    return count
