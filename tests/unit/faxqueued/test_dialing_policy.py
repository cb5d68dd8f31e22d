"""The dial prefix and the block list hold for every gateway: the queue's intake applies them."""

from __future__ import annotations

from pathlib import Path

import pytest

from faxgate.errors import FaxgateError
from faxgate.faxqueued import api
from faxgate.faxqueued.intake import dialable_requests
from faxgate.settings import load_settings
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger
from faxgate.spool.requests import Destination, DocumentPart, FaxRequest


def request(*numbers: str) -> FaxRequest:
    return FaxRequest(
        destinations=[Destination(n, name=f"to {n}") for n in numbers],
        parts=[DocumentPart(Path("doc.pdf"), "application/pdf")],
        priority=200,
        max_tries=3,
    )


def test_blocked_numbers_are_left_out_with_their_reason() -> None:
    settings = load_settings(environ={})  # default block list: 110, 112, 0900*, ...
    rejections: list[tuple[FaxRequest, str]] = []
    kept = dialable_requests([request("0991234", "112", "09001234")], settings, rejections)
    assert [d.number for r in kept for d in r.destinations] == ["0991234"]
    assert kept[0].destinations[0].name == "to 0991234"
    reasons = [reason for _req, reason in rejections]
    assert len(reasons) == 2
    assert "112" in reasons[0]
    assert "not allowed" in reasons[0]
    assert "0900*" in reasons[1]


def test_a_request_with_only_blocked_numbers_is_dropped() -> None:
    rejections: list[tuple[FaxRequest, str]] = []
    assert dialable_requests([request("110")], load_settings(environ={}), rejections) == []
    assert len(rejections) == 1


def test_the_dial_prefix_is_put_in_front_once() -> None:
    settings = load_settings(environ={"FAXGATE_SYS_FAX_CONFIGURE_DIAL_PREFIX": "0"})
    kept = dialable_requests([request("0991234")], settings, [])
    assert kept[0].destinations[0].number == "00991234"


def test_prefix_does_not_sneak_past_the_block_list() -> None:
    # 0 + 112 = 0112 is not on the list, but 112 as written is
    settings = load_settings(environ={"FAXGATE_SYS_FAX_CONFIGURE_DIAL_PREFIX": "0"})
    rejections: list[tuple[FaxRequest, str]] = []
    assert dialable_requests([request("112")], settings, rejections) == []
    assert rejections


def test_upload_of_a_blocked_number_is_refused_before_storing(spool: Spool, ledger: Ledger) -> None:
    with pytest.raises(FaxgateError, match="not allowed"):
        api.submit_upload(spool, ledger, [("a.pdf", b"%PDF-1.4")], ["0900 123 456"])
    assert ledger.query("SELECT * FROM submissions") == []
    assert list(spool.incoming.iterdir()) == []
