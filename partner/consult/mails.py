"""The mails of a consultation: to the coordinators when a request waits for its experts, to the
experts when they are assigned or reminded, to the requester when the recommendation is sent.

Mails say which request and where to read it, never the question, the summary or the
recommendation: free text may hold clinical detail that has no place in e-mail.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _

from partner.accounts.models import Role

from .models import Consultation

log = logging.getLogger(__name__)


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


def mail_coordinators(consultation_id: int) -> int:
    consultation = Consultation.objects.select_related("case__centre").get(pk=consultation_id)
    users = get_user_model().objects.filter(
        Q(memberships__role=Role.EUROPEAN_COORDINATOR)
        | Q(memberships__role=Role.NATIONAL_COORDINATOR, memberships__country_id=consultation.case.centre.country_id),
        is_active=True,
    )
    body = _("A consultation request waits for its experts: %(link)s") % {"link": _link(consultation_id)}
    return _send((u.email for u in users), _("New consultation request"), body)


def mail_experts(consultation_id: int, expert_ids: list[int], subject: str) -> int:
    users = get_user_model().objects.filter(pk__in=expert_ids, is_active=True)
    body = _("Read the request and its thread: %(link)s") % {"link": _link(consultation_id)}
    return _send((u.email for u in users), subject, body)


def mail_requester(consultation_id: int) -> int:
    consultation = Consultation.objects.select_related("requested_by").get(pk=consultation_id)
    body = _("The expert panel's recommendation is ready, with its letter: %(link)s") % {"link": _link(consultation_id)}
    return _send([consultation.requested_by.email], _("Recommendation of the expert panel"), body)
