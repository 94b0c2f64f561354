"""The quality dashboard's figures, computed by the worker and kept (DashboardSnapshot).

Computing them reads every case of the reader's scope and draws three figures: seconds on a registry
of some thousand children. The page shows the last figures at once, with their time; when a case,
finding or query changed since, or they are older than MAX_AGE (the ages of queries move with the
clock, and bulk writes send no signal), it asks the worker for new ones and shows them when ready.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from partner.jobs import services as jobs
from partner.jobs.context import JobContext
from partner.jobs.models import Job
from partner.jobs.registry import register

from .models import DashboardSnapshot

MAX_AGE = timedelta(minutes=10)
#: A reader's reloads within this time ask for new figures once.
ASK_AGAIN_AFTER = timedelta(minutes=2)


def key(user: Any, by: str, language: str) -> str:
    """Per reader: two readers' scopes are never taken for the same."""
    return f"{user.pk}:{by}:{language}"


def changed(**_kwargs: Any) -> None:
    """Something the dashboard counts changed: every snapshot asks for new figures at its next view."""
    DashboardSnapshot.objects.filter(stale=False).update(stale=True)


def current(user: Any, by: str, language: str) -> DashboardSnapshot | None:
    """The reader's last figures, new ones asked for when they are out of date (or there are none)."""
    snapshot = DashboardSnapshot.objects.filter(key=key(user, by, language)).first()
    now = timezone.now()
    fresh = snapshot is not None and not snapshot.stale and now - snapshot.computed < MAX_AGE
    asked = snapshot is not None and snapshot.asked is not None and now - snapshot.asked < ASK_AGAIN_AFTER
    if not fresh and not asked:
        with transaction.atomic():
            DashboardSnapshot.objects.update_or_create(
                key=key(user, by, language),
                defaults={"asked": now},
                create_defaults={"asked": now, "computed": now, "stale": True, "data": {}},
            )
            title = _("Quality dashboard figures")
            jobs.start("quality_dashboard", user=user, title=title, params={"by": by}, language=language)
        snapshot = DashboardSnapshot.objects.filter(key=key(user, by, language)).first()
    return snapshot if snapshot is not None and snapshot.data else None


def compute(job: Job, context: JobContext) -> dict[str, Any]:
    from .views_dashboard import dashboard_figures

    by = job.params["by"]
    context.stage(_("Computing the quality figures"))
    started = timezone.now()
    figures = json.loads(json.dumps(dashboard_figures(job.user, by, job.language), cls=DjangoJSONEncoder))
    DashboardSnapshot.objects.update_or_create(
        key=key(job.user, by, job.language),
        defaults={"computed": started, "stale": False, "asked": None, "data": figures},
    )
    return {}


register("quality_dashboard", compute, listed=False)
