"""How much spandsp logs follows what the Python logger would keep."""

from __future__ import annotations

import logging

import pytest

from faxgate.faxengine.codes import SpanLogLevel
from faxgate.faxengine.spanlog import TRACE, python_level, span_level_for


@pytest.mark.parametrize(
    ("python", "span"),
    [
        (TRACE, SpanLogLevel.FLOW_2),
        (logging.DEBUG, SpanLogLevel.FLOW),
        (logging.INFO, SpanLogLevel.PROTOCOL_ERROR),
        (logging.WARNING, SpanLogLevel.ERROR),
    ],
)
def test_spandsp_detail_follows_the_logger(python: int, span: SpanLogLevel) -> None:
    logger = logging.getLogger(f"faxengine.test-spanlog-{python}")
    logger.setLevel(python)
    assert span_level_for(logger) is span


def test_every_line_spandsp_produces_is_kept_by_that_logger() -> None:
    for python in (TRACE, logging.DEBUG, logging.INFO, logging.WARNING):
        logger = logging.getLogger(f"faxengine.test-spanlog-keep-{python}")
        logger.setLevel(python)
        for level in range(SpanLogLevel.ERROR, span_level_for(logger) + 1):
            assert logger.isEnabledFor(python_level(level)), (python, level)


def test_routine_spandsp_warnings_stay_below_warning() -> None:
    assert python_level(SpanLogLevel.WARNING) == logging.INFO
    assert python_level(SpanLogLevel.ERROR) == logging.WARNING
    assert python_level(SpanLogLevel.DEBUG_3) == TRACE
