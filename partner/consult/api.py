"""REST API of expert consultations (mounted at /api/consultations): the same services, rules and scope as
the pages. A request the user may not see is answered 404, never a 403 that tells it exists."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema, Status
from ninja.pagination import paginate

from partner.accounts.auth import API_AUTH
from partner.api_inputs import Pagination, RowId
from partner.cases.models import AccessLog, TumourCase
from partner.cases.scoping import in_scope
from partner.lib.downloads import download
from partner.lib.language import request_language

from . import services
from .models import Adherence, Assignment, Attachment, Consultation, ConsultationStatus, Panel, Urgency
from .summary import summary_rows
from .uploads import MAX_BYTES

router = Router(tags=["consultations"], auth=API_AUTH)

#: The languages a letter is written in: those of the pages.
LANGUAGE_CODES = "^(" + "|".join(code for code, _name in settings.LANGUAGES) + ")$"

#: Attachments in the request itself; more are added one at a time (POST .../attachments).
MAX_FILES = 5

#: Base64 of the largest attachment the upload check takes (the request body limit of the deployment may be lower).
MAX_BASE64 = 4 * (MAX_BYTES // 3 + 1)


class AttachmentIn(Schema):
    name: str = Field(min_length=1, max_length=200, description="the file's name, e.g. histology.pdf")
    kind: Attachment.Kind = Field(Attachment.Kind.OTHER)
    content: str = Field(max_length=MAX_BASE64, description="the file, base64; PDF, PNG or JPEG")


class ConsultationIn(Schema):
    case: int
    question: str = Field(min_length=1, max_length=5000, description="the clinical question; no names, no dates")
    urgency: Urgency = Urgency.ROUTINE
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=MAX_FILES)
    language: str | None = Field(
        None,
        pattern=LANGUAGE_CODES,
        description="the language of the panel's letter (en, it, fr, de or pl); by default the one the API answers in",
    )


class AssignIn(Schema):
    experts: list[RowId] = Field(min_length=1, description="user ids of members of the request's panel")


class TextIn(Schema):
    text: str = Field(min_length=1, max_length=10000)


class VoteIn(Schema):
    vote: Assignment.Vote
    comment: str = Field("", max_length=2000, description="required to dissent")
    version: int | None = Field(None, description="the version of the draft voted on; refused if it was revised")


class FollowUpIn(Schema):
    followed: Adherence.Followed
    outcome: Adherence.Outcome
    reason: str = Field("", max_length=2000, description="required unless the recommendation was followed")


class ConsultationOut(Schema):
    id: int
    status: ConsultationStatus
    panel: Panel
    entity: str | None = Field(description="the VRT entity code")
    urgency: Urgency
    submitted_at: dt.datetime
    due: dt.datetime
    overdue: bool
    first_response_at: dt.datetime | None
    sent_at: dt.datetime | None


class SummaryItem(Schema):
    label: str | None
    value: str


class SummarySection(Schema):
    code: str
    label: str | None
    repeating: bool
    rows: list[list[SummaryItem]]


class AssignmentOut(Schema):
    expert: int
    username: str
    name: str
    country: str
    assigned_at: dt.datetime
    vote: str = Field(description="agree, dissent, or empty while not voted on the current version")
    comment: str
    voted_at: dt.datetime | None


class MessageOut(Schema):
    author: str
    text: str
    written: dt.datetime


class AttachmentOut(Schema):
    id: int
    name: str
    kind: str
    content_type: str
    size: int
    uploaded_at: dt.datetime


class RecommendationOut(Schema):
    text: str
    version: int
    drafted_by: str
    drafted_at: dt.datetime
    letter: bool = Field(description="whether the letter is written: GET .../letter")


class AdherenceOut(Schema):
    followed: str
    outcome: str
    reason: str
    recorded_at: dt.datetime


class ConsultationDetailOut(ConsultationOut):
    case: int | None = Field(description="the case, for those whose scope holds it; null for the experts")
    requested_by: str | None
    question: str
    summary: list[SummarySection] = Field(description="the pseudonymised summary, in the request's language")
    attachments: list[AttachmentOut]
    assignments: list[AssignmentOut]
    messages: list[MessageOut]
    recommendation: RecommendationOut | None
    adherence: AdherenceOut | None


class Problem(Schema):
    field: str
    message: str


class Invalid(Schema):
    detail: str
    errors: list[Problem]


class Error(Schema):
    detail: str


def _is_open(consultation: Consultation) -> bool:
    return consultation.status in (ConsultationStatus.SUBMITTED, ConsultationStatus.ASSIGNED)


def _out(consultation: Consultation) -> dict[str, Any]:
    return {
        "id": consultation.pk,
        "status": consultation.status,
        "panel": consultation.panel,
        "entity": consultation.summary.get("entity"),
        "urgency": consultation.urgency,
        "submitted_at": consultation.submitted_at,
        "due": consultation.due,
        "overdue": _is_open(consultation) and consultation.due < timezone.now(),
        "first_response_at": consultation.first_response_at,
        "sent_at": consultation.sent_at,
    }


def _detail(request: HttpRequest, consultation: Consultation, what: str) -> dict[str, Any]:
    """The request as its reader may see it; the read is written to the case's access log."""
    user: Any = request.user
    consultation = services.get_visible(user, consultation.pk)  # fresh, after a change
    services.log_read(user, consultation, what, channel=AccessLog.Channel.API)
    ours = in_scope(user, consultation.case)
    recommendation = getattr(consultation, "recommendation", None)
    adherence = getattr(consultation, "adherence", None)
    summary = summary_rows(consultation.summary, request_language(request))
    return {
        **_out(consultation),
        "case": consultation.case_id if ours else None,
        "requested_by": consultation.requested_by.get_username() if ours else None,
        "question": consultation.question,
        "summary": [
            {
                "code": section["code"],
                "label": section["label"],
                "repeating": section["repeating"],
                "rows": [[{"label": label, "value": value} for label, value in row] for row in section["rows"]],
            }
            for section in summary
        ],
        "attachments": [
            {
                "id": a.pk,
                "name": a.name,
                "kind": a.kind,
                "content_type": a.content_type,
                "size": a.size,
                "uploaded_at": a.uploaded_at,
            }
            for a in consultation.attachments.all()
        ],
        "assignments": [
            {
                "expert": a.expert_id,
                "username": a.expert.get_username(),
                "name": a.expert.get_full_name(),
                "country": a.country.code,
                "assigned_at": a.assigned_at,
                "vote": a.vote,
                "comment": a.vote_comment,
                "voted_at": a.voted_at,
            }
            for a in consultation.assignments.select_related("expert", "country")
        ],
        "messages": [
            {"author": m.author.get_username(), "text": m.text, "written": m.written}
            for m in consultation.messages.select_related("author")
        ],
        "recommendation": None
        if recommendation is None
        else {
            "text": recommendation.text,
            "version": recommendation.version,
            "drafted_by": recommendation.drafted_by.get_username(),
            "drafted_at": recommendation.drafted_at,
            "letter": bool(recommendation.letter),
        },
        "adherence": None
        if adherence is None
        else {
            "followed": adherence.followed,
            "outcome": adherence.outcome,
            "reason": adherence.reason,
            "recorded_at": adherence.recorded_at,
        },
    }


def _invalid(exc: ValidationError, detail: str) -> Status:
    if hasattr(exc, "error_dict"):
        errors = [{"field": k, "message": m} for k, messages in exc.message_dict.items() for m in messages]
    else:
        errors = [{"field": "", "message": m} for m in exc.messages]
    return Status(422, {"detail": f"{detail}: " + "; ".join(e["message"] for e in errors), "errors": errors})


def _decoded(attachment: AttachmentIn) -> tuple[str, str, bytes]:
    try:
        content = base64.b64decode(attachment.content, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError(_("%(name)s is not base64.") % {"name": attachment.name}) from None
    return attachment.kind, attachment.name, content


@router.get(
    "", response=list[ConsultationOut], summary="The consultations you may see: your scope's, and those assigned to you"
)
@paginate(Pagination)
def list_consultations(request: HttpRequest, status: str | None = None) -> list[dict[str, Any]]:
    found = services.visible(request.user)
    if status:
        found = found.filter(status=status)  # an unknown status matches nothing
    return [_out(c) for c in found.order_by("-submitted_at", "-id")]


@router.post(
    "",
    response={201: ConsultationDetailOut, 403: Error, 404: Error, 422: Invalid},
    summary="Ask the expert panel about a case of your centre; attachments (PDF, PNG, JPEG) as base64",
)
def post_consultation(request: HttpRequest, payload: ConsultationIn) -> Any:
    case = TumourCase.objects.restrict(request.user).filter(pk=payload.case).select_related("entity", "centre").first()
    if case is None:
        raise Http404("no such case in your scope")
    try:
        attachments = [_decoded(a) for a in payload.attachments]
        consultation = services.submit(
            case,
            request.user,
            question=payload.question,
            urgency=payload.urgency,
            attachments=attachments,
            language=payload.language,
        )
    except PermissionDenied as exc:
        return Status(403, {"detail": str(exc)})
    except ValidationError as exc:
        return _invalid(exc, _("the request was not submitted"))
    return Status(201, _detail(request, consultation, "api submitted"))


@router.get("/{consultation_id}", response={200: ConsultationDetailOut, 404: Error}, summary="One consultation")
def get_consultation(request: HttpRequest, consultation_id: int) -> Any:
    return _detail(request, services.get_visible(request.user, consultation_id), "api read")


ACTION_RESPONSES: dict[int, Any] = {200: ConsultationDetailOut, 403: Error, 404: Error, 422: Invalid}


def _action(request: HttpRequest, consultation_id: int, what: str, act: Callable[[Consultation], Any]) -> Any:
    """One change through the services: refused whole (403, 422) or done, answered with the request."""
    consultation = services.get_visible(request.user, consultation_id)
    try:
        act(consultation)
    except PermissionDenied as exc:
        return Status(403, {"detail": str(exc)})
    except ValidationError as exc:
        return _invalid(exc, _("nothing was changed"))
    return Status(200, _detail(request, consultation, f"api {what}"))


@router.post(
    "/{consultation_id}/assign",
    response=ACTION_RESPONSES,
    summary="Assign experts of the panel (coordinators): at least three from at least two countries in all",
)
def post_assign(request: HttpRequest, consultation_id: int, payload: AssignIn) -> Any:
    def act(consultation: Consultation) -> None:
        experts = list(get_user_model().objects.filter(pk__in=payload.experts))
        unknown = sorted(set(payload.experts) - {e.pk for e in experts})
        if unknown and services.may_coordinate(request.user, consultation):
            raise ValidationError(
                _("Not an active member of this panel, or assigned already: %(names)s.")
                % {"names": ", ".join(map(str, unknown))}
            )
        services.assign(consultation, request.user, experts)

    return _action(request, consultation_id, "assign", act)


@router.post("/{consultation_id}/messages", response=ACTION_RESPONSES, summary="Write in the request's thread")
def post_message(request: HttpRequest, consultation_id: int, payload: TextIn) -> Any:
    return _action(request, consultation_id, "message", lambda c: services.post_message(c, request.user, payload.text))


@router.post(
    "/{consultation_id}/draft",
    response=ACTION_RESPONSES,
    summary="Draft or revise the recommendation (assigned experts); a revision asks every expert to vote again",
)
def post_draft(request: HttpRequest, consultation_id: int, payload: TextIn) -> Any:
    return _action(request, consultation_id, "draft", lambda c: services.draft(c, request.user, payload.text))


@router.post(
    "/{consultation_id}/vote",
    response=ACTION_RESPONSES,
    summary="Agree with the draft or dissent (assigned experts); the letter is sent once every expert has voted "
    "and three agree",
)
def post_vote(request: HttpRequest, consultation_id: int, payload: VoteIn) -> Any:
    return _action(
        request,
        consultation_id,
        "vote",
        lambda c: services.vote(c, request.user, payload.vote, payload.comment, version=payload.version),
    )


@router.post(
    "/{consultation_id}/follow-up",
    response=ACTION_RESPONSES,
    summary="Record whether the sent recommendation was followed, and the outcome (the case's centre)",
)
def post_follow_up(request: HttpRequest, consultation_id: int, payload: FollowUpIn) -> Any:
    return _action(
        request,
        consultation_id,
        "follow-up",
        lambda c: services.record_adherence(
            c, request.user, followed=payload.followed, outcome=payload.outcome, reason=payload.reason
        ),
    )


@router.post(
    "/{consultation_id}/withdraw",
    response=ACTION_RESPONSES,
    summary="Withdraw a request not yet answered (the requester or a coordinator)",
)
def post_withdraw(request: HttpRequest, consultation_id: int) -> Any:
    return _action(request, consultation_id, "withdraw", lambda c: services.withdraw(c, request.user))


@router.post(
    "/{consultation_id}/attachments",
    response=ACTION_RESPONSES,
    summary="Add an attachment to an open request (the requesting centre), as base64",
)
def post_attachment(request: HttpRequest, consultation_id: int, payload: AttachmentIn) -> Any:
    return _action(
        request, consultation_id, "attach", lambda c: services.add_attachment(c, request.user, *_decoded(payload))
    )


FILE_RESPONSES: dict[int, Any] = {404: Error}


@router.get(
    "/{consultation_id}/attachments/{attachment_id}",
    response=FILE_RESPONSES,
    summary="One attachment, with the type read from its content when it was stored",
    openapi_extra={"responses": {200: {"description": "the file"}}},
)
def get_attachment(request: HttpRequest, consultation_id: int, attachment_id: int) -> HttpResponse:
    consultation = services.get_visible(request.user, consultation_id)
    item = consultation.attachments.filter(pk=attachment_id).first()
    if item is None:
        raise Http404("no such attachment")
    services.log_read(request.user, consultation, f"api attachment {item.pk}", channel=AccessLog.Channel.API)
    with item.file.open("rb") as handle:
        return download(handle.read(), item.content_type, item.name)


@router.get(
    "/{consultation_id}/letter",
    response=FILE_RESPONSES,
    summary="The panel's letter, once the recommendation is agreed and sent",
    openapi_extra={"responses": {200: {"description": "a PDF", "content": {"application/pdf": {}}}}},
)
def get_letter(request: HttpRequest, consultation_id: int) -> HttpResponse:
    consultation = services.get_visible(request.user, consultation_id)
    content = services.letter_for(request.user, consultation, request_language(request))
    if content is None:
        raise Http404("no letter for you")
    services.log_read(request.user, consultation, "api letter", channel=AccessLog.Channel.API)
    return download(content, "application/pdf", f"consultation-{consultation.pk}.pdf")
