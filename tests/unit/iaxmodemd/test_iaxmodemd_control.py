"""Control requests: validation and answers (the socket itself is tested against the daemon)."""

from __future__ import annotations

from pathlib import Path

import pytest

from faxgate.iaxmodemd.control import ControlError, DialOrder, handle_request, parse_dial


class Recorder:
    def __init__(self) -> None:
        self.dials: list[DialOrder] = []
        self.aborts: list[int] = []

    def dial(self, order: DialOrder) -> None:
        if order.number == "666":
            raise ControlError("no free line")
        self.dials.append(order)

    def abort(self, job: int) -> None:
        self.aborts.append(job)

    def status(self) -> list[dict[str, object]]:
        return [{"line": "1", "state": "idle", "detail": "idle", "job": None}]


def test_dial_is_validated_and_passed_on() -> None:
    handler = Recorder()
    answer = handle_request(
        handler,
        {"op": "dial", "job": 7, "line": "1", "number": "100", "document": "/tmp/d.tif"},
    )
    assert answer == {"ok": True}
    assert handler.dials[0].job == 7
    assert handler.dials[0].document == Path("/tmp/d.tif")
    assert handler.dials[0].line == "1"


@pytest.mark.parametrize(
    ("request_", "fragment"),
    [
        ({"op": "dial", "job": 7, "number": "10 0", "document": "/d.tif"}, "not a dialable"),
        ({"op": "dial", "job": 7, "number": "100", "document": "d.tif"}, "absolute"),
        ({"op": "dial", "job": "7", "number": "100", "document": "/d.tif"}, "positive integer"),
        ({"op": "dial", "job": 7, "document": "/d.tif"}, "'number' is missing"),
        ({"op": "dial", "job": 7, "number": "666", "document": "/d.tif"}, "no free line"),
        ({"op": "fly"}, "unknown op"),
        (["op", "status"], "JSON object"),
    ],
)
def test_bad_requests_get_a_plain_error(request_: object, fragment: str) -> None:
    answer = handle_request(Recorder(), request_)
    assert answer["ok"] is False
    assert fragment in str(answer["error"])


def test_status_and_abort() -> None:
    handler = Recorder()
    assert handle_request(handler, {"op": "status"})["lines"] == handler.status()
    assert handle_request(handler, {"op": "abort", "job": 9}) == {"ok": True}
    assert handler.aborts == [9]


def test_parse_dial_accepts_numeric_line() -> None:
    order = parse_dial({"job": 1, "number": "+4930123", "document": "/a.tif", "line": 2})
    assert order.line == "2"
