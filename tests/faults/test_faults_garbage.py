"""Garbage on every port while well-formed clients keep being served.

All four listeners of a real appliance (SMTP, IPP, admin, the IAX2 lines on UDP) and the two
control sockets in the spool get a stream of junk from several threads for a few seconds:
random bytes, malformed HTTP and SMTP, TLS hellos on plain ports, huge headers, IAX2 frames
with random bodies. Meanwhile a good client of each kind keeps asking; every one of its
requests must succeed, and every program must still be running at the end.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import threading
import time

from faults_appliance import Appliance, free_port
from faults_clients import (
    HTTP_JUNK,
    SMTP_JUNK,
    garbage_tcp,
    garbage_udp,
    good_http,
    good_ipp,
    good_smtp,
    iax_poke,
    timed,
    unexpected_exceptions,
)

GARBAGE_SECONDS = 8.0
LINES = 2


def control_garbage(appliance: Appliance, rng: random.Random) -> None:
    """Junk on iaxmodemd's control socket (stream, JSON lines) and faxqueued's (datagrams)."""
    junk = rng.choice([b"{", b'{"op": "dial"}\n', b'{"op":"status"}' * 3 + b"\n", rng.randbytes(300),
                       b"[]\n", b'{"op": "dial", "job": "x", "document": "/etc/passwd"}\n',
                       json.dumps({"op": "abort", "job": -1}).encode() + b"\n"])  # fmt: skip
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        sock.connect(str(appliance.spool.iaxmodemd_socket))
        sock.sendall(junk)
        with contextlib.suppress(OSError):
            sock.recv(4096)
    with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.sendto(junk[:2000], str(appliance.spool.faxqueued_socket))


def test_garbage_on_every_port_while_good_clients_are_served(appliance: Appliance) -> None:
    baseport = free_port(udp_block=LINES)
    smtp = appliance.start("smtpfaxd")
    ipp = appliance.start("ippfaxd")
    admin = appliance.start("faxadmin")
    lines = appliance.start("iaxmodemd", lines_count=str(LINES), lines_baseport=str(baseport))
    queue = appliance.start("faxqueued")
    deadline = time.monotonic() + 30
    while not iax_poke(baseport, 1):
        assert time.monotonic() < deadline, lines.log()
    stop = threading.Event()
    sent = {"tcp": 0, "udp": 0, "control": 0}

    def attacker(seed: int) -> None:
        rng = random.Random(seed)
        while not stop.is_set():
            kind = rng.random()
            if kind < 0.25:
                garbage_tcp(smtp.port, rng, SMTP_JUNK)
            elif kind < 0.5:
                garbage_tcp(rng.choice([ipp.port, admin.port]), rng, HTTP_JUNK)
            elif kind < 0.9:
                garbage_udp(baseport + rng.randrange(LINES), rng)
                sent["udp"] += 1
                continue
            else:
                control_garbage(appliance, rng)
                sent["control"] += 1
                continue
            sent["tcp"] += 1

    attackers = [threading.Thread(target=attacker, args=(seed,), daemon=True) for seed in range(4)]
    for thread in attackers:
        thread.start()
    results: dict[str, list[tuple[bool, float]]] = {"smtp": [], "ipp": [], "admin": [], "iax2": []}
    try:
        end = time.monotonic() + GARBAGE_SECONDS
        while time.monotonic() < end:
            results["smtp"].append(timed(good_smtp, smtp.port))
            results["ipp"].append(timed(good_ipp, ipp.port))
            results["admin"].append(timed(good_http, admin.port))
            results["iax2"].append(timed(iax_poke, baseport))
    finally:
        stop.set()
        for thread in attackers:
            thread.join(timeout=10)
    failures = {kind: [r for r in rs if not r[0]] for kind, rs in results.items()}
    assert all(not f for f in failures.values()), f"{failures}; garbage sent {sent}"
    assert sent["tcp"] > 20
    assert sent["udp"] > 100
    for program in (smtp, ipp, admin, lines, queue):
        assert program.alive(), f"{program.name} died:\n{program.log()[-3000:]}"
    # the good mails were stored, one submission each; the garbage stored nothing
    assert appliance.count("SELECT count(*) FROM submissions WHERE kind = 'mail'") == len(
        results["smtp"]
    )
    for program in (smtp, ipp, admin, lines, queue):
        assert unexpected_exceptions(program.log()) == [], program.name
