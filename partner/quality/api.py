"""REST API of quality findings (mounted at /api/quality)."""

from ninja import Router

from partner.accounts.auth import API_AUTH

router = Router(tags=["quality"], auth=API_AUTH)
