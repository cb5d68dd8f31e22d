"""The fax lines of a real iaxmodemd take calls and registrations only from their trunk.

iaxmodemd runs in register mode (server = a UDP port this test owns, secret known). A client
built on faxgate's own sans-io IAX2 endpoint then plays an intruder from another port: its
NEW is refused, a REGREQ with a wrong secret is rejected and does not open the door; the same
REGREQ with the right secret is accepted (the positive control that shows the probe works).
"""

from __future__ import annotations

import random
import socket
import time
from dataclasses import dataclass

import pytest
from faults_appliance import Appliance, Program, free_port

from faxgate.iax2.call import DialRequest
from faxgate.iax2.endpoint import Endpoint
from faxgate.iax2.events import (
    CallAccepted,
    CallAnswered,
    CallEnded,
    Event,
    Output,
    Registered,
    RegistrationFailed,
    Transmit,
)

SECRET = "Tr7nk-S3cret"


@dataclass
class Lines:
    program: Program
    baseport: int
    server_port: int


@dataclass
class Probe:
    """An IAX2 endpoint on its own UDP port, pumped by hand."""

    sock: socket.socket
    endpoint: Endpoint

    @classmethod
    def on(cls, port: int) -> Probe:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", port))
        sock.settimeout(0.1)
        return cls(sock, Endpoint(rng=random.Random(port)))

    def run(
        self, outputs: list[Output], seconds: float, until: type[Event] | None = None
    ) -> list[Event]:
        events: list[Event] = []
        deadline = time.monotonic() + seconds
        pending = list(outputs)
        while time.monotonic() < deadline:
            for output in pending:
                if isinstance(output, Transmit):
                    self.sock.sendto(bytes(output.frame), output.address)
                else:
                    events.append(output)
            if until is not None and any(isinstance(e, until) for e in events):
                break
            pending = []
            try:
                data, address = self.sock.recvfrom(4096)
                pending = self.endpoint.datagram_received(data, address, time.monotonic())
            except TimeoutError:
                pass
            pending += self.endpoint.tick(time.monotonic())
        return events

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def lines(module_appliance: Appliance) -> Lines:
    baseport = free_port(udp_block=2)
    server_port = free_port(udp_block=1)
    program = module_appliance.start(
        "iaxmodemd", trunk_mode="register", trunk_server=f"127.0.0.1:{server_port}",
        trunk_secret=SECRET, lines_count="2", lines_baseport=str(baseport),
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while "line(s) on UDP" not in program.log() and time.monotonic() < deadline:
        assert program.alive(), program.log()
        time.sleep(0.2)
    return Lines(program, baseport, server_port)


def inbound_calls(appliance: Appliance) -> int:
    return appliance.count("SELECT count(*) FROM calls WHERE direction = 'in'")


def test_a_call_from_an_unknown_peer_is_refused(module_appliance: Appliance, lines: Lines) -> None:
    probe = Probe.on(free_port(udp_block=1))
    try:
        _, outputs = probe.endpoint.dial(
            DialRequest(("127.0.0.1", lines.baseport), "100", username="faxgate1", secret=SECRET),
            time.monotonic(),
        )
        events = probe.run(outputs, 8.0, until=CallEnded)
    finally:
        probe.close()
    assert not [e for e in events if isinstance(e, CallAccepted | CallAnswered)]
    assert [e for e in events if isinstance(e, CallEnded)], events
    assert inbound_calls(module_appliance) == 0
    assert lines.program.alive()


def test_a_registration_with_a_wrong_secret_is_rejected(
    module_appliance: Appliance, lines: Lines
) -> None:
    probe = Probe.on(free_port(udp_block=1))
    try:
        _, outputs = probe.endpoint.register(
            "faxgate1", "guessed", ("127.0.0.1", lines.baseport), time.monotonic()
        )
        events = probe.run(outputs, 6.0, until=RegistrationFailed)
        assert [e for e in events if isinstance(e, RegistrationFailed)], events
        assert not [e for e in events if isinstance(e, Registered)]
        # ... and a call from that address is still refused
        _, outputs = probe.endpoint.dial(
            DialRequest(("127.0.0.1", lines.baseport), "100"), time.monotonic()
        )
        events = probe.run(outputs, 8.0, until=CallEnded)
        assert not [e for e in events if isinstance(e, CallAccepted | CallAnswered)]
    finally:
        probe.close()
    assert inbound_calls(module_appliance) == 0


def test_an_unknown_peer_name_cannot_register(lines: Lines) -> None:
    probe = Probe.on(free_port(udp_block=1))
    try:
        _, outputs = probe.endpoint.register(
            "intruder", SECRET, ("127.0.0.1", lines.baseport + 1), time.monotonic()
        )
        events = probe.run(outputs, 6.0, until=RegistrationFailed)
    finally:
        probe.close()
    assert not [e for e in events if isinstance(e, Registered)]


def test_the_right_secret_registers_the_probe_works(lines: Lines) -> None:
    probe = Probe.on(free_port(udp_block=1))
    try:
        _, outputs = probe.endpoint.register(
            "faxgate1", SECRET, ("127.0.0.1", lines.baseport), time.monotonic()
        )
        events = probe.run(outputs, 6.0, until=Registered)
    finally:
        probe.close()
    assert [e for e in events if isinstance(e, Registered)], events


def test_the_trunk_secret_is_not_logged(lines: Lines) -> None:
    assert SECRET not in lines.program.log()
