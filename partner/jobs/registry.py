"""What each kind of job does, registered by the feature that owns it (the dependency points from the
feature to jobs, never back)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .context import JobContext
    from .models import Job

Work = Callable[["Job", "JobContext"], dict[str, Any]]


@dataclass(frozen=True)
class Kind:
    name: str
    #: Runs the job and returns the summary its page shows; raises JobFailed with a sentence for the user.
    work: Work
    #: The template that shows the result (the summary is its context); the default shows a download.
    template: str = "jobs/_result.html"
    #: Shown in the owner's list of long work (a dashboard's refresh is not something they asked for).
    listed: bool = True


_kinds: dict[str, Kind] = {}


def register(name: str, work: Work, *, template: str = "jobs/_result.html", listed: bool = True) -> None:
    _kinds[name] = Kind(name, work, template, listed)


def listed() -> list[str]:
    return [name for name, kind in _kinds.items() if kind.listed]


def kind(name: str) -> Kind:
    try:
        return _kinds[name]
    except KeyError:
        raise LookupError(f"no kind of job named {name!r}; registered: {', '.join(sorted(_kinds))}") from None


class JobFailed(Exception):
    """The work could not be done, for a reason its owner can act on; nothing was written."""
