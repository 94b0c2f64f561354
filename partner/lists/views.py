"""The one list view: filters from the query string, a search box, sortable columns, pages, a count,
and the download of exactly the rows filtered and sorted, for those who may export them.

    return render_list(request, CASES, TumourCase.objects.restrict(request.user))

The queryset given is already the user's scope; the list only narrows it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

import django_filters
import django_tables2 as tables
from django.core.exceptions import BadRequest, PermissionDenied
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import gettext as _

from partner.accounts.client import client_address
from partner.cases.models import AccessLog

from . import export

PER_PAGE = 50
MAX_PER_PAGE = 500
EXPORT_PARAMETER = "_export"


class ListTable(tables.Table):
    """The base of every list's table: the shared template, sorting by `sort`, pages by `page`."""

    class Meta:
        template_name = "lists/table.html"
        order_by_field = "sort"
        page_field = "page"
        per_page_field = "per_page"
        attrs = {"class": "list"}


@dataclass(frozen=True)
class ListSpec:
    """What one list is: its filters, its table, its words, and who may download it."""

    filterset: type[django_filters.FilterSet]
    table: type[tables.Table]
    title: Any
    count: Callable[[int], str]  # "3 cases", in the reader's language
    name: str  # of the downloaded file
    may_export: Callable[[Any], bool] = lambda user: False
    #: The case of each row, for the access log of a download; None when rows are not of cases.
    case_of: Callable[[Any], int] | None = None
    default_sort: str | None = None
    #: Filters applied when the query string does not name them at all (`?status=` names it, empty).
    defaults: Mapping[str, str] = field(default_factory=dict)
    template: str = "lists/list.html"


def _query(request: HttpRequest, spec: ListSpec) -> QueryDict:
    data = request.GET.copy()
    for key, value in spec.defaults.items():
        if key not in data:
            data[key] = value
    return data


def _per_page(data: QueryDict) -> int:
    try:
        wanted = int(data.get("per_page", PER_PAGE))
    except ValueError:
        return PER_PAGE
    return min(max(wanted, 1), MAX_PER_PAGE)


def _paginate(table: tables.Table, data: QueryDict) -> None:
    per_page = _per_page(data)
    try:
        table.paginate(page=data.get("page", 1), per_page=per_page)
    except PageNotAnInteger:
        table.paginate(page=1, per_page=per_page)
    except EmptyPage:
        table.paginate(page=table.paginator.num_pages, per_page=per_page)


def _filter_errors(filterset: django_filters.FilterSet) -> list[str]:
    errors = []
    for name, messages in filterset.errors.items():
        label = filterset.form.fields[name].label if name in filterset.form.fields else name
        errors += [
            _("%(filter)s: %(problem)s The list ignores this filter.") % {"filter": label, "problem": m}
            for m in messages
        ]
    return errors


def _download(request: HttpRequest, spec: ListSpec, table: tables.Table, fmt: str) -> HttpResponse:
    if fmt not in export.FORMATS:
        raise BadRequest(_("Lists download as csv or xlsx."))
    if not spec.may_export(request.user):
        raise PermissionDenied(_("Your role may not download this list."))
    if spec.case_of is not None:
        cases = sorted({spec.case_of(row.record) for row in table.rows})
        AccessLog.objects.bulk_create(
            [
                AccessLog(
                    user_id=cast(int, request.user.pk),
                    case_id=i,
                    channel=AccessLog.Channel.WEB,
                    what=f"list {spec.name} {fmt}",
                    address=client_address(request),
                )
                for i in cases
            ],
            batch_size=500,
        )
    return export.download(table.as_values(), fmt, spec.name)


def _links(data: QueryDict) -> dict[str, str]:
    """The query string of the list as it stands, for the downloads and for clearing the filters."""
    kept = data.copy()
    for key in ("page", EXPORT_PARAMETER):
        kept.pop(key, None)
    links = {}
    for fmt in export.FORMATS:
        kept[EXPORT_PARAMETER] = fmt
        links[fmt] = "?" + kept.urlencode()
    return links


def render_list(
    request: HttpRequest,
    spec: ListSpec,
    queryset: Any,
    *,
    context: Mapping[str, Any] | None = None,
    table_kwargs: Mapping[str, Any] | None = None,
) -> HttpResponse:
    """The list page, or its download when the query string asks for one (`_export=csv|xlsx`)."""
    data = _query(request, spec)
    filterset = spec.filterset(data, queryset=queryset, request=request)
    rows = filterset.qs
    table = spec.table(rows, order_by=data.get("sort") or spec.default_sort, **(table_kwargs or {}))
    fmt = request.GET.get(EXPORT_PARAMETER)
    if fmt is not None:
        return _download(request, spec, table, fmt)
    _paginate(table, data)
    total = table.paginator.count
    page_context = {
        "spec": spec,
        "title": spec.title,
        "filter": filterset,
        "table": table,
        "rows": [row.record for row in table.paginated_rows],
        "count": spec.count(total),
        "errors": _filter_errors(filterset),
        "exports": _links(data) if spec.may_export(request.user) else {},
        "filtered": any(k not in ("sort", "page", "per_page") for k in request.GET),
        **(context or {}),
    }
    return render(request, spec.template, page_context)
