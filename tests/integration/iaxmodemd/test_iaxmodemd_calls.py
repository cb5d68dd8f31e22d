"""Real-time fax calls: loopback trunk, interop with Debian's iaxmodem + efax, a lossy network.

Each test waits for its scenario (started in parallel by the `scenarios` fixture) and checks
what the daemon wrote: ledger rows, recvq files, status lines, events, session logs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from faxgate.faxengine.compare import page_equal, pages_equal, read_pages

RETRYABLE = {"busy", "no_answer", "no_fax", "protocol_failure"}


@pytest.mark.slow
@pytest.mark.scenario("loopback")
def test_loopback_trunk_sends_three_pages_with_ecm_at_14400(
    scenarios: object, documents: dict[str, Path]
) -> None:
    facts = scenarios.result("loopback")  # type: ignore[attr-defined]
    assert facts.exit_code == 0, facts.log
    outgoing = [c for c in facts.calls if c["direction"] == "out"]
    incoming = [c for c in facts.calls if c["direction"] == "in"]
    assert len(outgoing) == len(incoming) == 1
    for call in (outgoing[0], incoming[0]):
        assert call["state"] == "ended"
        assert call["outcome"] == "done", call["message"]
        assert (call["pages"], call["bit_rate"], call["ecm"]) == (3, 14400, 1)
        assert call["resolution"] == "fine"
        assert Path(call["session_log"]).read_text().count("page") >= 3
    assert outgoing[0]["job_id"] == facts.extra["job"]
    assert outgoing[0]["line"] == "1"
    assert incoming[0]["line"] == "2"
    assert incoming[0]["number"] == "100"
    # The received fax: in recvq/, numbered, with its row, identical to what was sent.
    assert len(facts.received) == 1
    fax = facts.received[0]
    assert (fax["dnid"], fax["pages"], fax["state"], fax["line"]) == ("100", 3, "received", "2")
    assert Path(fax["tiff_path"]).name == "fax00000001.tif"
    assert all(pages_equal(documents["fine3"], Path(fax["tiff_path"])))
    # Events told the story in order; status lines went back to idle, then down on exit.
    kinds = [e["event"] for e in facts.events]
    assert kinds.index("ringing") < kinds.index("connected") < kinds.index("page")
    sending = [e["detail"] for e in facts.events if e.get("state") == "sending"]
    assert "sending page 2/3 at 14400" in sending
    assert [e["page"] for e in facts.events if e["event"] == "page" and e["line"] == "1"] == [
        1,
        2,
        3,
    ]
    assert facts.status_files == {"line1": "down\n", "line2": "down\n"}


@pytest.mark.slow
@pytest.mark.scenario("interop_send")
def test_real_iaxmodem_with_efax_receives_our_three_pages(
    scenarios: object, documents: dict[str, Path]
) -> None:
    facts = scenarios.result("interop_send")  # type: ignore[attr-defined]
    (call,) = facts.calls
    assert call["outcome"] == "done", (call["message"], facts.extra.get("efax_log"))
    assert call["pages"] == 3
    assert call["ecm"] == 0  # efax has no ECM: negotiated off
    assert facts.extra["efax_exit"] == 0, facts.extra["efax_log"]
    received = facts.extra["pages"]
    assert [p.suffix for p in received] == [".001", ".002", ".003"]
    sent = read_pages(documents["fine3"])
    for sent_page, received_file in zip(sent, received, strict=True):
        (received_page,) = read_pages(received_file)
        # spandsp puts the header line above the image: the page itself must be intact.
        assert received_page.shape[0] > sent_page.shape[0]
        assert page_equal(sent_page, received_page)


@pytest.mark.slow
@pytest.mark.scenario("interop_receive")
def test_efax_through_real_iaxmodem_is_received_with_its_dnid(scenarios: object) -> None:
    facts = scenarios.result("interop_receive")  # type: ignore[attr-defined]
    assert facts.extra["efax_exit"] == 0, facts.extra["efax_log"]
    (call,) = facts.calls
    assert (call["direction"], call["number"], call["outcome"]) == ("in", "100", "done")
    (fax,) = facts.received
    assert (fax["dnid"], fax["pages"], fax["caller_id"]) == ("100", 3, "5551234")
    assert len(read_pages(Path(fax["tiff_path"]))) == 3
    assert Path(fax["tiff_path"]).parent == facts.spool / "recvq"


@pytest.mark.slow
@pytest.mark.scenario("impairment")
def test_lossy_jittery_network_ends_cleanly(scenarios: object) -> None:
    facts = scenarios.result("impairment")  # type: ignore[attr-defined]
    assert facts.extra["dropped"] > 0  # the proxy really did drop packets
    (call,) = facts.calls
    receiver_calls = facts.extra["receiver"].calls
    assert call["state"] == "ended"
    assert all(c["state"] == "ended" for c in receiver_calls)
    if call["outcome"] != "done":
        assert call["outcome"] in RETRYABLE
        assert call["message"]
    else:
        assert call["pages"] == 3
        assert facts.extra["receiver"].received[0]["pages"] == 3
    assert facts.exit_code == 0
