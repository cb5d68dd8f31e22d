"""HeadBuffer: where a request head ends, fed in pieces of any size."""

from __future__ import annotations

import pytest

from faxgate.web.head import Head, HeadBuffer

REQUEST = b"POST /printers/sendfax HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"


def feed_in(pieces: list[bytes], limit: int = 1024) -> list[Head]:
    buffer = HeadBuffer(limit)
    return [buffer.feed(piece) for piece in pieces]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 64])
def test_the_end_is_found_across_any_split(size: int) -> None:
    pieces = [REQUEST[i : i + size] for i in range(0, len(REQUEST), size)]
    verdicts = feed_in(pieces)
    head_end = REQUEST.index(b"\r\n\r\n") + 4
    first_complete = verdicts.index(Head.COMPLETE)
    # complete with the piece holding the head's last byte, not before
    assert first_complete == (head_end - 1) // size
    assert set(verdicts[:first_complete]) <= {Head.INCOMPLETE}


def test_everything_read_is_kept_for_the_parser() -> None:
    buffer = HeadBuffer(1024)
    buffer.feed(REQUEST[:10])
    assert buffer.feed(REQUEST[10:]) is Head.COMPLETE
    assert bytes(buffer.data) == REQUEST  # the body's first bytes too


def test_a_head_without_fields_is_complete() -> None:
    assert feed_in([b"GET / HTTP/1.0\r\n\r\n"]) == [Head.COMPLETE]


def test_one_empty_line_before_the_request_line_does_not_end_the_head() -> None:
    assert feed_in([b"\r\n", b"\r\nGET / HTTP/1.1\r\n", b"\r\n"]) == [
        Head.INCOMPLETE, Head.INCOMPLETE, Head.COMPLETE,
    ]  # fmt: skip
    assert feed_in([b"\r", b"\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"]) == [
        Head.INCOMPLETE, Head.COMPLETE,
    ]  # fmt: skip


def test_too_large_heads() -> None:
    assert feed_in([b"GET / HTTP/1.1\r\nX: " + b"a" * 100], limit=64) == [Head.TOO_LARGE]
    assert feed_in([b"GET / HTTP/1.1\r\nX: " + b"a" * 100 + b"\r\n\r\n"], limit=64) == [
        Head.TOO_LARGE
    ]
    # a head within the limit may come with more body than the limit
    assert feed_in([b"GET / HTTP/1.1\r\n\r\n" + b"a" * 100], limit=64) == [Head.COMPLETE]


def test_a_bare_line_feed_is_malformed_at_once() -> None:
    assert feed_in([b"GET / HTTP/1.1\nHost: x"]) == [Head.MALFORMED]
    assert feed_in([b"GET / HTTP/1.1\r", b"\nHost: x\r\n"]) == [Head.INCOMPLETE] * 2
    assert feed_in([b"\n"]) == [Head.MALFORMED]
