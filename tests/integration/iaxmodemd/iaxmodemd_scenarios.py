"""The real-time call scenarios: each starts real processes, runs one fax call and reports facts.

They run in threads at the same time (see conftest.py); the tests assert on what they return.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iaxmodemd_harness import (
    Control,
    IaxModemd,
    LossyProxy,
    RealIaxModem,
    efax,
    free_ports,
    init_spool,
    make_job,
    rows,
    stop_process,
    wait_for,
)

CALL_TIMEOUT = 240.0  # seconds: far beyond any of these calls, short of pytest's timeout


@dataclass
class CallFacts:
    """What a scenario saw."""

    spool: Path
    events: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    status_files: dict[str, str] = field(default_factory=dict)
    exit_code: int | None = None
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    log: str = ""


def _collect(facts: CallFacts, daemon: IaxModemd) -> CallFacts:
    facts.exit_code = daemon.stop()
    facts.log = daemon.log()
    facts.calls = rows(facts.spool, "SELECT * FROM calls ORDER BY id")
    facts.received = rows(facts.spool, "SELECT * FROM received_faxes ORDER BY id")
    facts.status_files = {
        path.name: path.read_text() for path in sorted((facts.spool / "status").glob("line*"))
    }
    return facts


def _dial_and_wait(
    daemon: IaxModemd, facts: CallFacts, document: Path, number: str, results: int
) -> None:
    """Dial on line 1 and read events until `results` call results came."""
    job = make_job(facts.spool, number)
    facts.extra["job"] = job
    with Control(daemon.socket_path, CALL_TIMEOUT) as events:
        assert events.request({"op": "subscribe"}) == {"ok": True}
        answer = daemon.request(
            {"op": "dial", "job": job, "line": "1", "number": number, "document": str(document)}
        )
        assert answer == {"ok": True}, answer
        started = time.monotonic()
        count = 0

        def counted(event: dict[str, Any]) -> bool:
            nonlocal count
            count += event.get("event") == "result"
            return count >= results

        facts.events = events.events_until(counted, CALL_TIMEOUT)
        facts.seconds = time.monotonic() - started
        if results > 1 or any(e.get("direction") == "in" for e in facts.events):
            # the received fax is stored after the result: wait for its event or row
            wait_for(lambda: rows(facts.spool, "SELECT id FROM received_faxes"), 20, 0.2)


def loopback(directory: Path, documents: dict[str, Path]) -> CallFacts:
    """A 3-page fine fax from line 1 to line 2 of one iaxmodemd (loopback trunk)."""
    spool = init_spool(directory / "spool")
    base = free_ports(2)
    daemon = IaxModemd(spool, {"lines.count": "2", "lines.baseport": str(base)}).start()
    facts = CallFacts(spool)
    try:
        _dial_and_wait(daemon, facts, documents["fine3"], "100", results=2)
    finally:
        _collect(facts, daemon)
    return facts


def interop_send(directory: Path, documents: dict[str, Path]) -> CallFacts:
    """faxgate sends 3 fine pages to a real iaxmodem with efax receiving on its tty."""
    spool = init_spool(directory / "spool")
    base = free_ports(1)
    modem_port = free_ports(1)
    modem = RealIaxModem(directory, "IAXA", modem_port, f"127.0.0.1:{base}").start()
    received = directory / "rx"
    received.mkdir()
    receiver = efax(
        modem.device, ["-jS0=1", "-w", "-r", str(received / "page")], directory / "efax.log"
    )
    facts = CallFacts(spool)
    daemon = IaxModemd(
        spool,
        {
            "lines.count": "1",
            "lines.baseport": str(base),
            "trunk.mode": "peer",
            "trunk.server": f"127.0.0.1:{modem_port}",
        },
    ).start()
    try:
        time.sleep(8)  # iaxmodem answers "busy" for 5 s after efax put it on hook
        _dial_and_wait(daemon, facts, documents["fine3"], "100", results=1)
        wait_for(lambda: receiver.poll() is not None, 30)
        facts.extra["efax_exit"] = receiver.poll()
        facts.extra["pages"] = sorted(received.glob("page.*"))
        facts.extra["efax_log"] = (directory / "efax.log").read_text(errors="replace")
    finally:
        stop_process(receiver)
        modem.stop()
        _collect(facts, daemon)
    return facts


def interop_receive(directory: Path, documents: dict[str, Path]) -> CallFacts:
    """efax sends 3 MH pages through a real iaxmodem to faxgate's line, dialling 100."""
    spool = init_spool(directory / "spool")
    base = free_ports(1)
    modem_port = free_ports(1)
    facts = CallFacts(spool)
    daemon = IaxModemd(
        spool,
        {
            "lines.count": "1",
            "lines.baseport": str(base),
            "trunk.mode": "peer",
            "trunk.server": f"127.0.0.1:{modem_port}",
        },
    ).start()
    modem = RealIaxModem(directory, "IAXB", modem_port, f"127.0.0.1:{base}").start()
    pages = [str(documents[f"mh_page{n}"]) for n in (1, 2, 3)]
    sender = None
    try:
        time.sleep(7)
        started = time.monotonic()
        sender = efax(modem.device, ["-t", "100", *pages], directory / "efax.log")
        sender.wait(CALL_TIMEOUT)
        facts.extra["efax_exit"] = sender.returncode
        facts.extra["efax_log"] = (directory / "efax.log").read_text(errors="replace")
        wait_for(lambda: rows(spool, "SELECT id FROM received_faxes"), 20, 0.2)
        facts.seconds = time.monotonic() - started
    finally:
        stop_process(sender)
        modem.stop()
        _collect(facts, daemon)
    return facts


def impairment(directory: Path, documents: dict[str, Path]) -> CallFacts:
    """A 3-page fax between two iaxmodemds through a proxy that drops 2% and adds jitter."""
    spool_a = init_spool(directory / "spool-a")
    spool_b = init_spool(directory / "spool-b")
    base_a, base_b = free_ports(1), free_ports(1)
    proxy = LossyProxy(("127.0.0.1", base_b), drop=0.02, jitter=0.015, seed=7)
    receiver = IaxModemd(
        spool_b,
        {
            "lines.count": "1",
            "lines.baseport": str(base_b),
            "trunk.mode": "peer",
            "trunk.server": f"127.0.0.1:{proxy.port_b}",
        },
    ).start()
    sender = IaxModemd(
        spool_a,
        {
            "lines.count": "1",
            "lines.baseport": str(base_a),
            "trunk.mode": "peer",
            "trunk.server": f"127.0.0.1:{proxy.port_a}",
        },
    ).start()
    facts = CallFacts(spool_a)
    try:
        _dial_and_wait(sender, facts, documents["fine3"], "100", results=1)
        # The receiving side must also have ended its call (no hang there either).
        wait_for(lambda: rows(spool_b, "SELECT id FROM calls WHERE state = 'ended'"), 60, 0.5)
    finally:
        proxy.close()
        facts.extra["dropped"] = proxy.dropped
        facts.extra["forwarded"] = proxy.forwarded
        facts.extra["receiver"] = _collect(CallFacts(spool_b), receiver)
        _collect(facts, sender)
    return facts
