"""The completion-code table: every spandsp code has a class, a plain message and a retry rule."""

from __future__ import annotations

import re

import pytest

from faxgate.faxengine.codes import T30Error
from faxgate.faxengine.outcomes import (
    COMPLETION_CODES,
    Outcome,
    classify_completion,
    classify_hangup_cause,
)

ALL_CODES = list(T30Error)


def test_every_completion_code_is_classified() -> None:
    assert set(COMPLETION_CODES) == set(T30Error)


@pytest.mark.parametrize("code", ALL_CODES, ids=lambda c: c.name)
def test_message_is_plain_words(code: T30Error) -> None:
    info = classify_completion(int(code))
    assert info.code == int(code)
    # A sentence for a person: capitalised, ends with a full stop, no protocol jargon.
    assert re.fullmatch(r"[A-Z].{15,}\.", info.message), info.message
    for jargon in ("T30_", "DCN", "DIS", "DCS", "EOL", "HDLC", "T2", "T5", "ERR"):
        assert jargon not in info.message, (jargon, info.message)


@pytest.mark.parametrize("code", ALL_CODES, ids=lambda c: c.name)
def test_only_ok_is_done(code: T30Error) -> None:
    info = classify_completion(int(code))
    assert (info.outcome is Outcome.DONE) == (code is T30Error.OK)
    assert info.succeeded == (code is T30Error.OK)


@pytest.mark.parametrize(
    ("code", "outcome", "retryable"),
    [
        (T30Error.OK, Outcome.DONE, False),
        (T30Error.T0_EXPIRED, Outcome.NO_FAX, True),
        (T30Error.T1_EXPIRED, Outcome.NO_FAX, True),
        (T30Error.NOSIZESUPPORT, Outcome.REMOTE_REFUSED, False),
        (T30Error.NORESSUPPORT, Outcome.REMOTE_REFUSED, False),
        (T30Error.RX_INCAPABLE, Outcome.REMOTE_REFUSED, False),
        (T30Error.INCOMPATIBLE, Outcome.REMOTE_REFUSED, False),
        (T30Error.FILEERROR, Outcome.LOCAL_ERROR, False),
        (T30Error.BADTIFF, Outcome.LOCAL_ERROR, False),
        (T30Error.NOMEM, Outcome.LOCAL_ERROR, True),
        (T30Error.CANNOT_TRAIN, Outcome.PROTOCOL_FAILURE, True),
        (T30Error.CALLDROPPED, Outcome.PROTOCOL_FAILURE, True),
        (T30Error.TX_PHDDEAD, Outcome.PROTOCOL_FAILURE, True),
        (T30Error.RX_DCNDATA, Outcome.PROTOCOL_FAILURE, True),
        (T30Error.PWD_UNACCEPTABLE, Outcome.REMOTE_REFUSED, False),
    ],
)
def test_known_codes(code: T30Error, outcome: Outcome, retryable: bool) -> None:
    info = classify_completion(int(code))
    assert (info.outcome, info.retryable) == (outcome, retryable)


def test_groups_of_the_header_map_to_one_class() -> None:
    # The header groups codes: sender/receiver link failures, file problems, feature refusals.
    for code in T30Error:
        outcome = classify_completion(int(code)).outcome
        if T30Error.TX_BADDCS <= code <= T30Error.RX_DCNNORTN:  # "Phase E status values"
            assert outcome is Outcome.PROTOCOL_FAILURE, code
        if T30Error.FILEERROR <= code <= T30Error.NOMEM:
            assert outcome is Outcome.LOCAL_ERROR, code
        if code.name.endswith("_UNACCEPTABLE"):
            assert outcome is Outcome.REMOTE_REFUSED, code


def test_size_refusal_says_what_size_is_needed() -> None:
    assert "1728" in classify_completion(int(T30Error.NOSIZESUPPORT)).message


@pytest.mark.parametrize("code", [-1, 62, 1000])
def test_unknown_code_is_a_retryable_protocol_failure(code: int) -> None:
    info = classify_completion(code)
    assert info.outcome is Outcome.PROTOCOL_FAILURE
    assert info.retryable
    assert str(code) in info.message


@pytest.mark.parametrize(
    ("cause", "outcome", "retryable"),
    [
        (17, Outcome.BUSY, True),
        (34, Outcome.BUSY, True),
        (18, Outcome.NO_ANSWER, True),
        (19, Outcome.NO_ANSWER, True),
        (1, Outcome.LOCAL_ERROR, False),
        (28, Outcome.LOCAL_ERROR, False),
        (127, Outcome.PROTOCOL_FAILURE, True),
    ],
)
def test_hangup_causes(cause: int, outcome: Outcome, retryable: bool) -> None:
    info = classify_hangup_cause(cause)
    assert (info.outcome, info.retryable, info.code) == (outcome, retryable, None)
    assert str(cause) in info.message
