"""ippfaxd as a process: SIGHUP reloads settings, SIGTERM stops it, DNS-SD publisher wiring."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from ippfaxd_helpers import (
    Printer,
    ipp_request,
    operation_attributes,
    start_printer,
    stop_printer,
)

from appliance_testing import pid_alive, stand_in_publisher, wait_for
from faxgate.ipp.codec import Message
from faxgate.ipp.constants import Operation, Status
from faxgate.spool.ledger import Ledger


def printer_status(printer: Printer) -> int:
    _, response = ipp_request(printer.port, Operation.GET_PRINTER_ATTRIBUTES,
                              operation_attributes(printer.uri))  # fmt: skip
    assert isinstance(response, Message)
    return response.code


def test_sighup_applies_stored_settings_and_sigterm_stops(printer: Printer) -> None:
    assert printer_status(printer) == Status.SUCCESSFUL_OK
    with Ledger.open(printer.spool.ledger_path) as ledger, ledger.transaction() as conn:
        conn.execute(
            "INSERT INTO settings_applied (key, value, applied_at) VALUES (?, ?, ?)",
            ("sys.fax.configure.ipp.networks", json.dumps(["10.0.0.0/8"]), time.time()),
        )
    assert printer_status(printer) == Status.SUCCESSFUL_OK  # not before the reload
    printer.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 20
    while printer_status(printer) != Status.CLIENT_ERROR_FORBIDDEN:
        assert time.monotonic() < deadline, printer.log()[-2000:]
        time.sleep(0.2)
    printer.process.send_signal(signal.SIGTERM)
    assert printer.process.wait(timeout=10) == 0


STAND_IN = """#!/bin/sh
# stands in for avahi's publisher: records how it was called, then waits to be stopped
echo $$ > "{out}.pid"
printf '%s\\n' "$@" > "{out}"
exec sleep 600
"""


def test_dnssd_publisher_runs_while_the_printer_runs(tmp_path: Path) -> None:
    # A stand-in on PATH shows the wiring and the arguments quickly and without root; the real
    # avahi-publish-service and avahi-daemon run in test_ippfaxd_dnssd.py, inside private
    # network namespaces so that multicast never reaches a real network.
    out = tmp_path / "published"
    printer = start_printer(tmp_path, {
        "FAXGATE_SYS_FAX_CONFIGURE_IPP_DNSSD": "true",
        "FAXGATE_SYS_FAX_CONFIGURE_IPP_PRINTERNAME": "Office Fax",
        **stand_in_publisher(tmp_path, STAND_IN.format(out=out)),
    })  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while not out.exists() or not out.read_text():
            assert time.monotonic() < deadline, printer.log()
            time.sleep(0.1)
        argv = out.read_text().splitlines()
        assert argv[:4] == ["--subtype=_universal._sub._ipp._tcp", "Office Fax", "_ipp._tcp",
                            str(printer.port)]  # fmt: skip
        assert "rp=printers/sendfax" in argv
        assert any(a.startswith("UUID=") and len(a) == 41 for a in argv)
        pid = int((tmp_path / "published.pid").read_text())
        os.kill(pid, 0)  # running
    finally:
        stop_printer(printer.process)
    wait_for(lambda: not pid_alive(pid), 5, "the publisher to end with the printer", 0.1)


ONCE_GONE = """#!/bin/sh
# stands in for avahi's publisher: the first one exits soon (avahi-daemon restarted), the next
# one stays
if [ -e "{pids}" ]; then echo $$ >> "{pids}"; exec sleep 600; fi
echo $$ >> "{pids}"
exec sleep 0.3
"""


def test_dnssd_publisher_is_started_again_after_it_exits(tmp_path: Path) -> None:
    # In the real gunicorn master, whose SIGCHLD handler reaps children too.
    pids = tmp_path / "pids"
    printer = start_printer(tmp_path, {
        "FAXGATE_SYS_FAX_CONFIGURE_IPP_DNSSD": "true",
        **stand_in_publisher(tmp_path, ONCE_GONE.format(pids=pids)),
    })  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while len(pids.read_text().split() if pids.exists() else []) < 2:
            assert time.monotonic() < deadline, printer.log()
            time.sleep(0.1)
        first, second = (int(pid) for pid in pids.read_text().split())
        os.kill(second, 0)  # the new publisher runs
        assert printer.log().count("DNS-SD publisher exited") == 1
        assert printer_status(printer) == Status.SUCCESSFUL_OK
    finally:
        stop_printer(printer.process)
    wait_for(
        lambda: not pid_alive(first) and not pid_alive(second),
        5, "both publishers to end with the printer", 0.1,
    )  # fmt: skip
