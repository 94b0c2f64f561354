"""The registry's log lines (settings.LOGGING): one record per line, each with its request's id, no
character from outside able to start a line of its own.

A path like /cases/%0A2025-01-01 ERROR ... is decoded into a newline; written as is, it would forge a
record. Control characters are written escaped (\\n, \\x1b), and a traceback's lines are indented, so
that only a real record starts at the beginning of a line.
"""

from __future__ import annotations

import contextvars
import logging
import re
from typing import Any

#: The id of the request being answered in this thread, for every record written meanwhile.
current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str) -> str:
    """Control characters (line breaks too) as Python writes them in a string literal: \\n, \\x1b, \\u2028."""
    return CONTROL.sub(lambda m: m[0].encode("unicode_escape").decode("ascii"), text)


def _indented(text: str) -> str:
    return "\n".join(f"    {escape_controls(line)}" for line in text.split("\n"))


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True


class EscapingFormatter(logging.Formatter):
    """The message on one line; a traceback or stack beneath it, every line of it indented."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = escape_controls(record.message)
        return super().formatMessage(record)

    def formatException(self, ei: Any) -> str:
        return _indented(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return _indented(super().formatStack(stack_info))
