"""The `partner` command: `partner X` runs the Django management command X."""

from __future__ import annotations

import os
import sys

#: The exit status of a configuration the command cannot start with (as argparse uses for bad usage).
CONFIGURATION_ERROR = 2


def _configuration_error() -> str | None:
    """Load the settings; the reason they cannot be loaded, in one line, or None."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    from partner.lib.env import ConfigurationError

    try:
        settings.INSTALLED_APPS  # noqa: B018 - reading a setting imports the settings module
    except (ImproperlyConfigured, ConfigurationError) as exc:
        return " ".join(str(exc).split())
    return None


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "partner.settings")
    # A newcomer's first mistake is a missing setting: one line saying what to do, not a traceback.
    problem = _configuration_error()
    if problem is not None:
        print(f"partner: {problem}", file=sys.stderr)
        sys.exit(CONFIGURATION_ERROR)
    from django.core.management import execute_from_command_line

    execute_from_command_line(["partner", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    main()
