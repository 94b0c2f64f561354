"""The API's pagination: ninja's limit and offset, bounded by what the databases take in LIMIT and OFFSET."""

from __future__ import annotations

from ninja import Field, Schema
from ninja.conf import settings
from ninja.pagination import LimitOffsetPagination

#: SQLite and PostgreSQL read LIMIT and OFFSET as signed 64-bit integers; a larger one is a server error.
LARGEST = 2**63 - 1


class Pagination(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(settings.PAGINATION_PER_PAGE, ge=1, le=LARGEST)
        offset: int = Field(0, ge=0, le=LARGEST)
