"""Typed readers for settings taken from the environment."""

from __future__ import annotations

import os
from pathlib import Path


class ConfigurationError(RuntimeError):
    """A setting is missing or malformed; the message says which and how to fix it."""


def envbool(name: str, default: str) -> bool:
    value = os.environ.get(name, default).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ConfigurationError(f"{name}={value!r}: expected true or false")


def envint(name: str, default: str) -> int:
    value = os.environ.get(name, default)
    try:
        return int(value)
    except ValueError:
        raise ConfigurationError(f"{name}={value!r}: expected a whole number") from None


def envlist(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def secret_from_file(name: str) -> str | None:
    """Read the secret whose file path is in the environment variable `name`, or None."""
    path = os.environ.get(name)
    if not path:
        return None
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigurationError(f"{name}={path}: cannot read the file ({exc.strerror})") from None
    if len(text) < 32:
        raise ConfigurationError(f"{name}={path}: the secret must be at least 32 characters long")
    return text
