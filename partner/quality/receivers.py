"""Quality control on every save: a changed case is checked inside its saving transaction.

A bulk job (the demo registry, an import) saves thousands of cases; checking each alone would take
about as long as the job, so it defers the checks and runs them once, vectorised, over what it
saved (`with deferred(): ...` then `check_cases(...)`).
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

_deferred = contextvars.ContextVar("quality_deferred", default=False)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """Skip the check at each save inside the block; the caller checks the cases afterwards."""
    token = _deferred.set(True)
    try:
        yield
    finally:
        _deferred.reset(token)


def check_changed_case(sender: Any, case: Any, user: Any = None, **kwargs: Any) -> None:
    if _deferred.get():
        return
    from .services import check_case

    check_case(case, user)
