"""One save, one mark: every history row written inside `one_save` carries the same save id.

The case history groups its rows by this mark (`history_change_reason` "save:<id>"), so that the
records and the case written by one save read as one change, whatever the clock says.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

from simple_history.signals import pre_create_historical_record

PREFIX = "save:"
_current: ContextVar[str | None] = ContextVar("partner_save", default=None)

P = ParamSpec("P")
T = TypeVar("T")


@contextmanager
def one_save() -> Iterator[str]:
    """Mark the history rows written inside the block as one save (an enclosing save keeps its own mark)."""
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    token = _current.set(uuid.uuid4().hex)
    try:
        yield str(_current.get())
    finally:
        _current.reset(token)


def as_one_save(func: Callable[P, T]) -> Callable[P, T]:
    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        with one_save():
            return func(*args, **kwargs)

    return wrapper


def save_of(reason: str | None) -> str | None:
    """The save id a history row was marked with, if any."""
    return reason[len(PREFIX) :] if reason and reason.startswith(PREFIX) else None


def _mark(sender: Any, history_instance: Any, **kwargs: Any) -> None:
    save = _current.get()
    if save is not None and not history_instance.history_change_reason:
        history_instance.history_change_reason = PREFIX + save


pre_create_historical_record.connect(_mark, dispatch_uid="partner-cases-one-save")
