"""The list of clarification queries in the user's scope: open ones first seen, newest first (see partner/lists)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy, ngettext

from partner.accounts.security import is_coordinator
from partner.cases.lists import may_export_rows
from partner.lists.views import ListSpec, render_list

from . import queries as services
from .filtersets import QueryFilterSet
from .models import QueryMessage, QueryStatus
from .tables import QueryTable

QUERIES = ListSpec(
    filterset=QueryFilterSet,
    table=QueryTable,
    title=gettext_lazy("Clarification queries"),
    count=lambda n: ngettext("%(n)s query", "%(n)s queries", n) % {"n": n},
    name="queries",
    may_export=may_export_rows,
    case_of=lambda query: query.case_id,
    default_sort="-raised_at",
    defaults={"status": QueryStatus.OPEN},
    template="quality/queries.html",
)


@login_required
def query_list(request: HttpRequest) -> HttpResponse:
    last = QueryMessage.objects.filter(query=OuterRef("pk")).order_by("-written", "-id")
    found = (
        services.scoped_queries(request.user)
        .select_related("case__patient", "case__centre")
        .annotate(
            last_text=Subquery(last.values("text")[:1]),
            last_author=Subquery(last.values("author__username")[:1]),
            last_written=Subquery(last.values("written")[:1]),
        )
    )
    return render_list(request, QUERIES, found, context={"is_coordinator": is_coordinator(request.user)})
