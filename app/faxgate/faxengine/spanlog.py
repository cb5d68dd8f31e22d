"""spandsp's log lines, routed to a Python logger.

spandsp's message handler is `void (*)(int level, const char *text)`, with no user data, so each
terminal gets its own C callback (a closure over its logger). The tag string is kept by pointer
inside spandsp: its buffer must live as long as the state, like the callback itself — both are
returned for the caller to keep.
"""

from __future__ import annotations

import ctypes
import logging
from collections.abc import Iterable
from typing import Any

from faxgate.faxengine.codes import (
    SPAN_LOG_SHOW_PROTOCOL,
    SPAN_LOG_SHOW_SEVERITY,
    SPAN_LOG_SHOW_TAG,
    SpanLogLevel,
)
from faxgate.faxengine.library import MessageHandler, SpanDSP

# spandsp severity -> Python logging level. spandsp says WARNING for routine events of a good
# call ("ECM carrier not found"), and every call's real result is in its CallReport, so its lines
# stay below WARNING unless spandsp itself calls them errors. FLOW is what a session log shows.
PYTHON_LEVELS: dict[int, int] = {
    SpanLogLevel.ERROR: logging.WARNING,
    SpanLogLevel.WARNING: logging.INFO,
    SpanLogLevel.PROTOCOL_ERROR: logging.INFO,
    SpanLogLevel.PROTOCOL_WARNING: logging.DEBUG,
    SpanLogLevel.FLOW: logging.DEBUG,
}
TRACE = 5  # Python level for spandsp's FLOW_2 and more detailed lines


def python_level(span_level: int) -> int:
    """The Python logging level for a line spandsp logged at `span_level`."""
    return PYTHON_LEVELS.get(span_level, TRACE)


def span_level_for(logger: logging.Logger) -> SpanLogLevel:
    """The most detailed spandsp level whose lines `logger` would actually emit.

    Asking spandsp for less than that saves formatting hundreds of lines a call for nothing.
    """
    if logger.isEnabledFor(TRACE):
        return SpanLogLevel.FLOW_2
    if logger.isEnabledFor(logging.DEBUG):
        return SpanLogLevel.FLOW
    if logger.isEnabledFor(logging.INFO):
        return SpanLogLevel.PROTOCOL_ERROR
    return SpanLogLevel.ERROR


def route_span_logs(
    lib: SpanDSP,
    logging_states: Iterable[int],
    logger: logging.Logger,
    tag: str,
    level: SpanLogLevel | None = None,
) -> list[Any]:
    """Send the lines of spandsp `logging_states` to `logger`; returns what must be kept alive."""
    span_level = level if level is not None else span_level_for(logger)
    tag_buffer = ctypes.create_string_buffer(tag.encode("ascii", "replace"))

    def forward(line_level: int, text: bytes | None) -> None:
        if text:
            logger.log(python_level(line_level), "%s", text.decode("latin-1").rstrip("\n"))

    handler = MessageHandler(forward)
    flags = SPAN_LOG_SHOW_TAG | SPAN_LOG_SHOW_PROTOCOL | SPAN_LOG_SHOW_SEVERITY
    for logging_state in logging_states:
        lib.span_log_set_message_handler(logging_state, handler)
        lib.span_log_set_tag(logging_state, tag_buffer)
        lib.span_log_set_level(logging_state, flags | int(span_level))
    return [tag_buffer, handler]
