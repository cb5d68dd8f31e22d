"""Slow clients do not starve the others: slowloris on SMTP, IPP and the admin.

Each listener gets 64 connections from 127.0.0.1 that trickle a request one byte a second and
never finish it; while they are held open, a well-formed client (from 127.0.0.2, as another
host would) must still be served. 64 is more than the threads gunicorn's workers have (2 × 8
for ippfaxd, 2 × 4 for faxadmin): plain gthread gave each slow client a thread and starved;
faxgate.web.gunicorn_worker reads request heads in the poller thread, so they hold none.

Slow bodies (a whole head at once, then the body a byte a second) from one address hold at
most half of a worker's threads (the worker's share per address), so the good client gets one
at once; and each of them is cut with 408 once it falls under the body's minimum rate.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from functools import partial

import pytest
from faults_appliance import Appliance, Program
from faults_clients import Slowloris, good_http, good_ipp, good_smtp, timed

SLOW_CONNECTIONS = 64
PREFIXES = {
    "smtpfaxd": b"EHLO slow.example.com\r\nMAIL FROM:<slow@example.com>\r\n",
    "ippfaxd": b"POST /printers/sendfax HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/ipp\r\n",
    "faxadmin": b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow\r\n",
}
# Timeouts go by keyword: good_http's second parameter is the path, not the timeout.
GOOD: dict[str, Callable[..., bool]] = {
    "smtpfaxd": good_smtp,
    "ippfaxd": good_ipp,
    "faxadmin": good_http,
}


@pytest.fixture(scope="module")
def programs(module_appliance: Appliance) -> dict[str, Program]:
    return {name: module_appliance.start(name) for name in PREFIXES}


@pytest.mark.parametrize("name", ["smtpfaxd", "ippfaxd", "faxadmin"])
def test_a_good_client_is_served_while_slow_clients_hold_connections(
    programs: dict[str, Program], name: str
) -> None:
    program = programs[name]
    assert timed(GOOD[name], program.port)[0], "the listener does not work even without load"
    slow = Slowloris(program.port, SLOW_CONNECTIONS, PREFIXES[name])
    try:
        time.sleep(3)  # the slow clients are now inside their requests
        during = timed(partial(GOOD[name], timeout=10), program.port)
    finally:
        held = slow.still_open()
        slow.close()
    assert slow.opened == SLOW_CONNECTIONS
    assert program.alive()
    # when the slow clients are gone the listener serves again (whatever happened during)
    deadline = time.monotonic() + 20
    while not timed(partial(GOOD[name], timeout=5), program.port)[0]:
        assert time.monotonic() < deadline, f"{name} did not recover after the slow clients left"
    assert during[0], (
        f"{name}: the good client failed after {during[1]:.1f} s; {held} slow ones held"
    )


SLOW_BODY_HEADS = {
    "ippfaxd": b"POST /printers/sendfax HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: application/ipp\r\nContent-Length: 100000\r\n\r\n",
    "faxadmin": b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\n",
}


class SlowBodies:
    """`count` connections that send a whole head at once, then its body a byte a second."""

    def __init__(self, port: int, count: int, head: bytes) -> None:
        self.sockets = [
            socket.create_connection(
                ("127.0.0.1", port), timeout=5, source_address=("127.0.0.1", 0)
            )
            for _ in range(count)
        ]
        for sock in self.sockets:
            sock.sendall(head)
            sock.setblocking(False)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()

    def _trickle(self) -> None:
        while not self._stop.wait(1.0):
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.send(b"\x01")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for sock in self.sockets:
            sock.close()


@pytest.mark.parametrize("name", ["ippfaxd", "faxadmin"])
def test_a_good_client_is_served_while_slow_bodies_are_read(
    programs: dict[str, Program], name: str
) -> None:
    program = programs[name]
    slow = SlowBodies(program.port, SLOW_CONNECTIONS, SLOW_BODY_HEADS[name])
    try:
        time.sleep(3)
        during = timed(partial(GOOD[name], timeout=10), program.port)
    finally:
        slow.close()
    assert program.alive()
    assert during[0], f"{name}: the good client failed after {during[1]:.1f} s"
