"""REST API of clarification queries (mounted at /api/quality/queries)."""

from ninja import Router

from partner.accounts.auth import API_AUTH

router = Router(tags=["quality"], auth=API_AUTH)
