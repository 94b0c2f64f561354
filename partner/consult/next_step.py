"""What happens next on a consultation, and who must do it, decided in one place.

`next_step(consultation, user)` is what that user must do now (or None); `status_line(consultation)`
says for everyone else where the request stands. Both read the rule of `services.agreed`: every
assigned expert votes on the current draft, and at least `MIN_EXPERTS` agree. When every vote is in
and fewer agree, the drafter revises (a new version: every expert votes again) or a coordinator adds
experts of the panel (each votes on the same version). No request object: the pages, the API and
the worklist ask the same question.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import services
from .models import Assignment, Consultation, ConsultationStatus

#: The centre records whether the recommendation was followed at the child's next visit: from this
#: long after the letter.
FOLLOW_UP_AFTER = dt.timedelta(days=90)


class Action:
    ASSIGN = "assign"
    DRAFT = "draft"
    VOTE = "vote"
    REVISE = "revise"
    ADD_EXPERT = "add_expert"
    FOLLOW_UP = "follow_up"


@dataclass(frozen=True)
class Tally:
    """The votes on the current draft."""

    agree: int
    dissent: int
    pending: int

    @property
    def missing(self) -> int:
        """How many more agreeing votes the rule needs."""
        return max(services.MIN_EXPERTS - self.agree, 0)

    @property
    def blocked(self) -> bool:
        """Every vote is in and too few agree: nothing moves until the draft is revised or experts added."""
        return self.pending == 0 and self.missing > 0


@dataclass(frozen=True)
class Step:
    action: str
    text: str  # what to do, addressed to the person who does it
    reason: str  # why, with what is missing
    anchor: str  # the section of the consultation's page where it is done


def tally(consultation: Consultation) -> Tally:
    votes = [a.vote for a in consultation.assignments.all()]
    return Tally(
        agree=votes.count(Assignment.Vote.AGREE),
        dissent=votes.count(Assignment.Vote.DISSENT),
        pending=votes.count(""),
    )


def follow_up_due(consultation: Consultation) -> dt.datetime | None:
    """From when the follow-up is due, for a sent recommendation whose follow-up is not recorded."""
    if consultation.status != ConsultationStatus.SENT or consultation.sent_at is None:
        return None
    if getattr(consultation, "adherence", None) is not None:
        return None
    return consultation.sent_at + FOLLOW_UP_AFTER


def _votes(t: Tally) -> str:
    agree = ngettext("%(n)s expert agrees", "%(n)s experts agree", t.agree) % {"n": t.agree}
    dissent = ngettext("%(n)s dissents", "%(n)s dissent", t.dissent) % {"n": t.dissent}
    return _("%(agree)s and %(dissent)s; at least %(needed)s must agree.") % {
        "agree": agree,
        "dissent": dissent,
        "needed": services.MIN_EXPERTS,
    }


def _missing(t: Tally) -> str:
    return ngettext("One more agreeing vote is missing.", "%(n)s more agreeing votes are missing.", t.missing) % {
        "n": t.missing
    }


def _recommendation(consultation: Consultation) -> Any:
    return getattr(consultation, "recommendation", None)


def next_step(consultation: Consultation, user: Any) -> Step | None:
    """What `user` must do now on the request, or None when nothing waits for them."""
    if not user.is_authenticated:
        return None
    status = consultation.status
    if status == ConsultationStatus.SUBMITTED:
        if services.may_coordinate(user, consultation):
            return Step(
                Action.ASSIGN,
                _("Assign the panel's experts"),
                ngettext(
                    "No expert is assigned yet: choose at least %(n)s member of the panel, "
                    "from at least %(c)s countries.",
                    "No expert is assigned yet: choose at least %(n)s members of the panel, "
                    "from at least %(c)s countries.",
                    services.MIN_EXPERTS,
                )
                % {"n": services.MIN_EXPERTS, "c": services.MIN_COUNTRIES},
                "panel",
            )
        return None
    if status == ConsultationStatus.SENT:
        due = follow_up_due(consultation)
        requester = consultation.requested_by_id == user.pk and services.may_follow_up(user, consultation)
        if due is not None and due <= timezone.now() and requester:
            return Step(
                Action.FOLLOW_UP,
                _("Record the follow-up"),
                _(
                    "The letter was sent on %(date)s: record whether the recommendation was followed, "
                    "and how the child is."
                )
                % {"date": formats.date_format(timezone.localdate(due - FOLLOW_UP_AFTER), "DATE_FORMAT")},
                "follow-up",
            )
        return None
    if status != ConsultationStatus.ASSIGNED:
        return None
    mine = consultation.assignments.filter(expert_id=user.pk).first()
    recommendation = _recommendation(consultation)
    if recommendation is None:
        if mine is not None:
            return Step(
                Action.DRAFT,
                _("Draft the panel's recommendation"),
                _(
                    "The experts are assigned and nobody has drafted yet: one of you writes it, "
                    "then every expert votes."
                ),
                "draft",
            )
        return None
    t = tally(consultation)
    if mine is not None and not mine.vote:
        voted = t.agree + t.dissent
        return Step(
            Action.VOTE,
            _("Vote on version %(v)s of the recommendation") % {"v": recommendation.version},
            ngettext("%(n)s of %(total)s experts has voted.", "%(n)s of %(total)s experts have voted.", voted)
            % {"n": voted, "total": voted + t.pending},
            "vote",
        )
    if not t.blocked:
        return None
    if mine is not None and recommendation.drafted_by_id == user.pk:
        return Step(
            Action.REVISE,
            _("Revise the recommendation"),
            " ".join(
                [
                    _votes(t),
                    _("Revise it with the dissenting comments in mind: every expert then votes on the new version."),
                    _("Or a coordinator adds an expert."),
                ]
            ),
            "draft",
        )
    if services.may_coordinate(user, consultation) and services.candidates(consultation).exists():
        return Step(
            Action.ADD_EXPERT,
            ngettext("Add an expert to the panel", "Add %(n)s experts to the panel", t.missing) % {"n": t.missing},
            " ".join(
                [
                    _votes(t),
                    _missing(t),
                    _("Each expert you add votes on this version; or the drafter revises it."),
                ]
            ),
            "panel",
        )
    return None


def status_line(consultation: Consultation) -> str:
    """Where the request stands, for anyone who reads it."""
    status = consultation.status
    if status == ConsultationStatus.SUBMITTED:
        return _("Waiting for a coordinator to assign the panel's experts.")
    if status == ConsultationStatus.WITHDRAWN:
        return _("The request was withdrawn: the panel no longer works on it.")
    if status == ConsultationStatus.SENT:
        sent = formats.date_format(timezone.localdate(consultation.sent_at or timezone.now()), "DATE_FORMAT")
        line = _(
            "The panel agreed its recommendation; the letter was sent to the requesting clinician on %(when)s "
            "and is stored with the case."
        ) % {"when": sent}
        due = follow_up_due(consultation)
        if due is not None:
            line += " " + _("The requesting centre records the follow-up from %(date)s.") % {
                "date": formats.date_format(timezone.localdate(due), "DATE_FORMAT")
            }
        return line
    recommendation = _recommendation(consultation)
    if recommendation is None:
        return _("The experts are reading the case; one of them drafts the recommendation.")
    t = tally(consultation)
    if t.blocked:
        return " ".join(
            [
                _("Version %(v)s of the recommendation:") % {"v": recommendation.version},
                _votes(t),
                _("Waiting for the drafter to revise it or a coordinator to add an expert."),
            ]
        )
    voted = t.agree + t.dissent
    return ngettext(
        "Version %(v)s of the recommendation: %(n)s of %(total)s experts has voted. The letter is sent once "
        "every expert has voted and at least %(needed)s agree.",
        "Version %(v)s of the recommendation: %(n)s of %(total)s experts have voted. The letter is sent once "
        "every expert has voted and at least %(needed)s agree.",
        voted,
    ) % {"v": recommendation.version, "n": voted, "total": voted + t.pending, "needed": services.MIN_EXPERTS}
