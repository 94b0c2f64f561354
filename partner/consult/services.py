"""What may be done with a consultation, by whom, in one place: the web pages, the API and the
commands all call these functions. Each change is one transaction; each read by a person is written
to the case's access log.

The summary the experts read is built in summary.py, attachments are checked and stored by
uploads.py, and mails.py writes the mails.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from partner.accounts.models import CENTRE_ROLES, Role
from partner.cases.models import AccessLog, TumourCase
from partner.cases.scoping import coordinates, in_scope

from .mails import mail_coordinators, mail_experts, mail_requester
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
from .summary import summary_of
from .uploads import checked_upload, files_undone_on_error, store_attachment

#: A panel's recommendation needs this many assigned experts, from at least `MIN_COUNTRIES` countries.
MIN_EXPERTS = 3
MIN_COUNTRIES = 2
REMINDER_INTERVAL = dt.timedelta(days=1)


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


def signed_letter(user: Any, consultation: Consultation) -> bool:
    """An assigned expert who voted on the sent recommendation reads the panel's copy of its letter."""
    return (
        consultation.status == ConsultationStatus.SENT
        and consultation.assignments.filter(expert=user).exclude(vote="").exists()
    )


def letter_for(user: Any, consultation: Consultation, language: str | None = None) -> bytes | None:
    """The sent letter as `user` may read it, or None: the stored letter, in the request's language, for
    those whose scope holds the case; for the experts who voted, the same letter with the addressee left
    out, as their pages leave out the centre, in `language` (their page's)."""
    from .letter import render_letter

    recommendation = getattr(consultation, "recommendation", None)
    if recommendation is None or not recommendation.letter:
        return None
    if may_read_letter(user, consultation):
        with recommendation.letter.open("rb") as handle:
            return bytes(handle.read())
    if signed_letter(user, consultation):
        return render_letter(consultation, language, for_panel=True)
    return None


def log_read(user: Any, consultation: Consultation, what: str, channel: str = AccessLog.Channel.WEB) -> None:
    AccessLog.objects.create(user=user, case=consultation.case, channel=channel, what=f"consultation {what}"[:40])


# --- the request -------------------------------------------------------------------------------


def page_language() -> str:
    """The language the page or the API answers in, as a code of settings.LANGUAGES ("en" if another)."""
    code = (get_language() or "en")[:2]
    return code if code in dict(settings.LANGUAGES) else "en"


def submit(
    case: TumourCase,
    user: Any,
    *,
    question: str,
    urgency: str = Urgency.ROUTINE,
    attachments: Iterable[tuple[str, str, bytes]] = (),
    language: str | None = None,
) -> Consultation:
    """A request to the panel of the case's entity, with (kind, file name, content) attachments; the
    letter will be written in `language`, by default the language the requester's page is in."""
    if not may_request(user, case):
        raise PermissionDenied("only the case's centre asks the expert panel")
    if case.entity is None or not case.entity.panel:
        raise ValidationError(_("This case is not classified as a very rare tumour: no expert panel answers for it."))
    if not question.strip():
        raise ValidationError(_("Write the clinical question."))
    if urgency not in Urgency.values:
        raise ValidationError(_("Choose the urgency."))
    language = language or page_language()
    if language not in dict(settings.LANGUAGES):
        raise ValidationError(_("Choose the language of the letter."))
    checked = [(kind, checked_upload(name, content)) for kind, name, content in attachments]
    now = timezone.now()
    with files_undone_on_error():
        consultation = Consultation.objects.create(
            case=case,
            panel=case.entity.panel,
            question=question.strip(),
            urgency=urgency,
            summary=summary_of(case),
            requested_by=user,
            language=language,
            submitted_at=now,
            due=now + dt.timedelta(days=DUE_DAYS[Urgency(urgency)]),
        )
        for kind, upload in checked:
            store_attachment(consultation, user, kind, upload)
        transaction.on_commit(lambda: mail_coordinators(consultation.pk))
    return consultation


def add_attachment(consultation: Consultation, user: Any, kind: str, name: str, content: bytes) -> Attachment:
    if not (consultation.requested_by_id == user.pk or may_request(user, consultation.case)):
        raise PermissionDenied("only the requesting centre adds attachments")
    if consultation.status in (ConsultationStatus.SENT, ConsultationStatus.WITHDRAWN):
        raise ValidationError(_("The request is closed."))
    upload = checked_upload(name, content)
    with files_undone_on_error():
        return store_attachment(consultation, user, kind, upload)


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
            ngettext(
                "A panel needs at least %(experts)s expert from at least %(countries)s countries.",
                "A panel needs at least %(experts)s experts from at least %(countries)s countries.",
                MIN_EXPERTS,
            )
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
        transaction.on_commit(lambda: mail_experts(consultation.pk, ids, _("A consultation is assigned to you")))
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
    transaction.on_commit(lambda: mail_requester(consultation.pk))


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


# --- overdue requests --------------------------------------------------------------------------


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
            mail_experts(consultation.pk, waiting, _("Reminder: a consultation is past its due date"))
        else:
            mail_coordinators(consultation.pk)
        Consultation.objects.filter(pk=consultation.pk).update(reminded_at=now)
        count += 1
    return count
