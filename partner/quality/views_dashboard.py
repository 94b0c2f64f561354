"""The quality dashboard: completeness, open findings and clarification queries, within the user's scope."""

from __future__ import annotations

from typing import Any

import pandas as pd
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from partner.accounts.models import Role
from partner.accounts.security import is_coordinator
from partner.cases.frames import case_frames
from partner.cases.models import TumourCase
from partner.dictionary.loader import Dictionary, get_dictionary
from partner.lib.language import request_language

from . import dashboard, snapshots
from .completeness import completeness, field_labels
from .models import Finding, FindingStatus, Query, QueryStatus
from .rules.base import SEVERITIES

#: What the dashboard groups by: the case's path to the group's code, and how the selector names it.
GROUPINGS: dict[str, tuple[str, Any]] = {
    "country": ("centre__country__code", gettext_lazy("country")),
    "centre": ("centre__code", gettext_lazy("centre")),
    "entity": ("entity__code", gettext_lazy("entity")),
}
VIEWER_ROLES = {Role.DATA_MANAGER, Role.CLINICIAN, Role.NATIONAL_COORDINATOR, Role.EUROPEAN_COORDINATOR}


def may_see_dashboard(user: Any) -> bool:
    """Those who look after cases: each sees the dashboard of their own scope. Experts and researchers do not."""
    return bool(user.is_superuser or user.memberships.filter(role__in=VIEWER_ROLES).exists())


def _group(value: Any) -> str:
    return _("unclassified") if value is None or value is pd.NA or value == "" else str(value)


def _frame(rows: list[tuple[Any, ...]], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=columns)
    frame["group"] = frame["group"].map(_group).astype("object")
    return frame


def _completeness(user: Any, d: Dictionary, by: str, language: str) -> dict[str, Any]:
    table = completeness(case_frames(user, dictionary=d).cases, d, by)
    table[by] = table[by].astype("object").map(_group)
    labels = field_labels(d, language)
    plain = field_labels(d, language, name_module=False)  # the table names the form beside it
    matrix = dashboard.completeness_matrix(table, by, labels)
    forms = {f.code: f.labels.get(language) for f in d.forms}
    groups = list(matrix.columns)
    cells = {
        (group, form, field): {"filled": filled, "expected": expected, "share": share}
        for group, form, field, filled, expected, share in table.itertuples(index=False, name=None)
    }
    sums = table.groupby(["form", "field"])[["filled", "expected"]].sum()
    totals = {key: (int(f), int(e)) for key, f, e in zip(sums.index, sums["filled"], sums["expected"], strict=True)}
    rows = []
    for form, field in [key for key in labels if key in totals]:
        filled, expected = totals[(form, field)]
        rows.append(
            {
                "label": plain[(form, field)],
                "form": forms.get(form, form),
                "cells": [cells.get((group, form, field)) for group in groups],
                "all": {"filled": filled, "expected": expected, "share": filled / expected},
            }
        )
    filled, expected = int(table["filled"].sum()), int(table["expected"].sum())
    return {
        "groups": groups,
        "rows": rows,
        "overall": filled / expected if expected else None,
        "svg": dashboard.completeness_figure(matrix, str(GROUPINGS[by][1])),
    }


def _findings(cases: QuerySet[TumourCase], path: str) -> dict[str, Any]:
    counts = (
        Finding.objects.filter(case__in=cases, status=FindingStatus.OPEN)
        .values_list("rule", "severity", f"case__{path}")
        .annotate(n=Count("id"))
        .order_by()
    )
    table = dashboard.findings_by_rule(_frame(list(counts), ["rule", "severity", "group", "n"]))
    rows = [
        {
            "rule": r.rule,
            "severity": SEVERITIES.get(str(r.severity), r.severity),
            "n": r.n,
            "groups": r.groups,
        }
        for r in table.itertuples(index=False)
    ]
    return {"rows": rows, "total": int(table["n"].sum()) if rows else 0, "svg": dashboard.findings_figure(table)}


def _queries(cases: QuerySet[TumourCase], path: str, group_label: str) -> dict[str, Any]:
    queries = Query.objects.filter(case__in=cases)
    waiting = queries.exclude(status=QueryStatus.CLOSED).values_list(f"case__{path}", "raised_at", "due")
    ages = dashboard.query_ages(_frame(list(waiting), ["group", "raised_at", "due"]), pd.Timestamp(timezone.now()))
    answered = queries.filter(answered_at__isnull=False).values_list(f"case__{path}", "raised_at", "answered_at")
    answered_frame = _frame(list(answered), ["group", "raised_at", "answered_at"])
    times = dashboard.answer_times(answered_frame)
    overall = float(dashboard.days_to_answer(answered_frame).median()) if len(answered_frame) else None
    bands = [(key, label) for key, _limit, label in dashboard.AGE_BANDS]
    return {
        "bands": bands,
        "ages": [
            {
                "group": group,
                "bands": [int(row[key]) for key, _label in bands],
                "total": int(row["total"]),
                "overdue": int(row["overdue"]),
                "oldest": int(row["oldest"]),
            }
            for group, row in ages.iterrows()
        ],
        "waiting": int(ages["total"].sum()) if len(ages) else 0,
        "overdue": int(ages["overdue"].sum()) if len(ages) else 0,
        "times": [{"group": g, "answered": int(r.answered), "median": r.median_days} for g, r in times.iterrows()],
        "answered": len(answered_frame),
        "median": overall,
        "ages_svg": dashboard.query_age_figure(ages, group_label),
        "times_svg": dashboard.answer_time_figure(times, group_label),
    }


def dashboard_figures(user: Any, by: str, language: str) -> dict[str, Any]:
    """Every figure of the dashboard for the reader: computed by the worker (partner.quality.snapshots)."""
    path, group_label = GROUPINGS[by]
    d = get_dictionary()
    cases = TumourCase.objects.restrict(user)
    return {
        "cases_counted": cases.counted().count(),
        "completeness": _completeness(user, d, by, language),
        "findings": _findings(cases, path),
        "queries": _queries(cases, path, str(group_label)),
    }


@login_required
def quality_dashboard(request: HttpRequest) -> HttpResponse:
    if not may_see_dashboard(request.user):
        raise PermissionDenied(_("The quality dashboard is for centres and coordinators."))
    by = request.GET.get("by", "country")
    if by not in GROUPINGS:
        by = "country"
    snapshot = snapshots.current(request.user, by, request_language(request))
    context = {
        "by": by,
        "group_label": GROUPINGS[by][1],
        "groupings": [(key, label) for key, (_path, label) in GROUPINGS.items()],
        "snapshot": snapshot,
        "may_run": is_coordinator(request.user),
        **(snapshot.data if snapshot is not None else {}),
    }
    return render(request, "quality/dashboard.html", context)
