"""partner token create USERNAME | revoke HINT: personal API tokens from the command line."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from partner.accounts.models import ApiToken


class Command(BaseCommand):
    help = "Create or revoke personal API tokens."

    def add_arguments(self, parser: ArgumentParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        create = sub.add_parser("create", help="create a token and print it (it is shown only once)")
        create.add_argument("username")
        create.add_argument("--name", default="command line", help="what the token is for")
        revoke = sub.add_parser("revoke", help="revoke a token by the first characters it shows (prt_...)")
        revoke.add_argument("hint")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "create":
            try:
                user = get_user_model().objects.get(username=options["username"], is_active=True)
            except get_user_model().DoesNotExist:
                raise CommandError(f"no active user {options['username']!r}") from None
            _, key = ApiToken.issue(user, options["name"])
            self.stdout.write(key)
            self.stderr.write("Keep this token now: it is stored only as a hash and cannot be shown again.")
            return
        tokens = ApiToken.objects.filter(hint__startswith=options["hint"][:10], revoked__isnull=True)
        if tokens.count() != 1:
            raise CommandError(f"{tokens.count()} active tokens start with {options['hint']!r}: give more characters")
        token = tokens.get()
        token.revoked = timezone.now()
        token.save(update_fields=["revoked"])
        self.stdout.write(f"revoked {token}")
