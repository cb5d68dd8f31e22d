"""Registration client and registrar: with each other over a (lossy) link, and with iaxmodem."""

from __future__ import annotations

import dataclasses
import itertools
import random
from pathlib import Path

import pytest
from iax2_sim import Network

from faxgate.iax2.constants import FrameType, IaxSubclass, IeType
from faxgate.iax2.endpoint import CallNumbers, Endpoint
from faxgate.iax2.events import (
    Output,
    PeerRegistered,
    PeerRegistrationRejected,
    PeerUnregistered,
    Registered,
    RegistrationFailed,
    Transmit,
    Unregistered,
)
from faxgate.iax2.frames import FullFrame, parse_frame
from faxgate.iax2.ies import ApparentAddress, InformationElements
from faxgate.iax2.registration import Registrar, RegistrationClient, RegistrationState

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "iax2"
LINE = ("127.0.0.1", 4570)
SERVER = ("127.0.0.1", 4569)
MODEM = ("127.0.0.1", 40001)
SECRETS = {"line1": "s3cret", "faxline1": "s3cret"}


def registrar_factory(numbers: CallNumbers) -> Registrar:
    return Registrar(SECRETS.get, numbers)


def setup(secret: str, *, loss: float = 0.0, seed: int = 1) -> tuple[Network, Endpoint, Endpoint]:
    net = Network(loss=loss, seed=seed)
    line = net.attach(LINE, Endpoint(rng=random.Random(seed)))
    server = net.attach(SERVER, Endpoint(registrar=registrar_factory, rng=random.Random(seed + 1)))
    _client, outputs = line.register("line1", secret, SERVER, 0.0, refresh=60)
    net.emit(LINE, outputs)
    return net, line, server


def sent_by(net: Network, source: tuple[str, int], subclass: int) -> list[FullFrame]:
    frames = [parse_frame(data) for origin, data in net.sent if origin == source]
    return [f for f in frames if isinstance(f, FullFrame) and f.is_iax(subclass)]


@pytest.mark.parametrize("loss", [0.0, 0.1])
def test_right_secret_registers_and_refreshes(loss: float) -> None:
    net, _line, server = setup("s3cret", loss=loss, seed=7)
    net.run(130.0, step=0.05)
    registered = net.of_type(LINE, Registered)
    assert registered
    first = registered[0]
    assert first.refresh == 60  # type: ignore[attr-defined]
    assert first.apparent_address == LINE  # type: ignore[attr-defined]
    assert net.of_type(SERVER, PeerRegistered)
    assert server.registrar is not None
    assert server.registrar.lookup("line1", net.now) == LINE
    # Renewed 5 s before each expiry: about at 55 s and 110 s, and never expired in between.
    assert len(registered) >= 3
    assert not net.of_type(SERVER, PeerUnregistered)
    challenges = sent_by(net, SERVER, IaxSubclass.REGAUTH)
    assert len({f.ies.text(IeType.CHALLENGE) for f in challenges}) >= 3  # fresh each time


def test_renewal_happens_before_the_refresh_runs_out() -> None:
    net, _line, _server = setup("s3cret")
    net.run(70.0, step=0.05)
    times = [t for t, source, e in net.timeline if source == LINE and isinstance(e, Registered)]
    assert len(times) == 2
    assert 54.0 < times[1] - times[0] < 56.0


def test_wrong_secret_is_refused_and_retried_with_growing_pauses() -> None:
    net, line, server = setup("wrong")
    net.run(80.0, step=0.05)
    failures = net.of_type(LINE, RegistrationFailed)
    assert failures
    assert "refused" in failures[0].reason  # type: ignore[attr-defined]
    rejected = net.of_type(SERVER, PeerRegistrationRejected)
    assert rejected
    assert rejected[0].reason == "wrong secret"  # type: ignore[attr-defined]
    assert not net.of_type(LINE, Registered)
    assert server.registrar is not None
    assert server.registrar.lookup("line1", net.now) is None
    fail_times = [
        t for t, source, e in net.timeline if source == LINE and isinstance(e, RegistrationFailed)
    ]
    pauses = [round(b - a) for a, b in itertools.pairwise(fail_times)]
    assert pauses[:3] == [10, 20, 40]  # RetryBackoff: 10 s doubling
    assert line.registrations[0].state is RegistrationState.WAITING_RETRY


def test_unknown_peer_is_refused() -> None:
    net = Network()
    line = net.attach(LINE, Endpoint(rng=random.Random(1)))
    net.attach(SERVER, Endpoint(registrar=registrar_factory, rng=random.Random(2)))
    _client, outputs = line.register("nobody", "x", SERVER, 0.0)
    net.emit(LINE, outputs)
    net.run(2.0)
    (rejected,) = net.of_type(SERVER, PeerRegistrationRejected)
    assert "no peer" in rejected.reason  # type: ignore[attr-defined]
    assert net.of_type(LINE, RegistrationFailed)


def test_release_on_shutdown() -> None:
    net, line, server = setup("s3cret")
    net.run(2.0)
    net.emit(LINE, line.shutdown(net.now))
    net.run(4.0)
    assert net.of_type(LINE, Unregistered)
    assert net.of_type(SERVER, PeerUnregistered)
    assert server.registrar is not None
    assert server.registrar.lookup("line1", net.now) is None
    assert line.idle


def test_server_that_never_answers_fails_and_is_retried() -> None:
    net = Network()
    line = net.attach(LINE, Endpoint(rng=random.Random(1)))
    _client, outputs = line.register("line1", "s3cret", SERVER, 0.0)
    net.emit(LINE, outputs)
    net.run(30.0, step=0.05)
    failures = net.of_type(LINE, RegistrationFailed)
    assert failures
    assert "no answer" in failures[0].reason  # type: ignore[attr-defined]
    assert len(sent_by(net, LINE, IaxSubclass.REGREQ)) > 7  # retransmissions, then a retry


def test_registration_expires_when_the_peer_stops_renewing() -> None:
    net, _line, server = setup("s3cret")
    net.run(1.0)
    del net.endpoints[LINE]
    net.run(70.0, step=0.1)
    assert net.of_type(SERVER, PeerUnregistered)
    assert server.registrar is not None
    assert server.registrar.lookup("line1", net.now) is None


# -- against the datagrams of a real iaxmodem --------------------------------------------


def modem_frame(name: str) -> FullFrame:
    frame = parse_frame((FIXTURES / f"{name}.bin").read_bytes())
    assert isinstance(frame, FullFrame)
    return frame


def full_frames(outputs: list[Output]) -> list[FullFrame]:
    return [o.frame for o in outputs if isinstance(o, Transmit) and isinstance(o.frame, FullFrame)]


def iaxmodem_registers(secret: str) -> tuple[Endpoint, list[Output]]:
    """Play the captured exchange: the MD5 in the capture answers challenge 314159265."""

    def factory(numbers: CallNumbers) -> Registrar:
        return Registrar({"faxline1": secret}.get, numbers, challenge_factory=lambda: "314159265")

    server = Endpoint(registrar=factory, rng=random.Random(3))
    (regauth,) = full_frames(
        server.datagram_received((FIXTURES / "regreq.bin").read_bytes(), MODEM, 0.0)
    )
    assert regauth.is_iax(IaxSubclass.REGAUTH)
    assert regauth.ies.text(IeType.CHALLENGE) == "314159265"
    # The capture was answered by call number 100; ours is another, so re-address the reply.
    answer = dataclasses.replace(modem_frame("regreq_md5"), destination_call=regauth.source_call)
    return server, server.datagram_received(bytes(answer), MODEM, 0.1)


def test_registrar_accepts_iaxmodems_md5_answer() -> None:
    server, outputs = iaxmodem_registers("s3cret")
    (regack,) = full_frames(outputs)
    assert regack.is_iax(IaxSubclass.REGACK)
    assert regack.ies.get(IeType.REFRESH) == 60
    assert regack.ies.get(IeType.APPARENT_ADDR) == ApparentAddress.for_address(*MODEM)
    assert any(isinstance(o, PeerRegistered) for o in outputs)
    assert server.registrar is not None
    assert server.registrar.lookup("faxline1", 1.0) == MODEM
    # iaxmodem's REGREL on exit (no MD5) from the registered address releases it.
    outputs = server.datagram_received((FIXTURES / "regrel.bin").read_bytes(), MODEM, 2.0)
    assert any(isinstance(o, PeerUnregistered) for o in outputs)
    assert server.registrar.lookup("faxline1", 2.0) is None


def test_registrar_refuses_iaxmodem_with_a_different_secret() -> None:
    server, outputs = iaxmodem_registers("another")
    (regrej,) = full_frames(outputs)
    assert regrej.is_iax(IaxSubclass.REGREJ)
    assert regrej.ies.get(IeType.CAUSECODE) == 29
    assert server.registrar is not None
    assert server.registrar.lookup("faxline1", 1.0) is None


def test_regrel_from_elsewhere_must_answer_a_challenge() -> None:
    server, _ = iaxmodem_registers("s3cret")
    outputs = server.datagram_received(
        (FIXTURES / "regrel.bin").read_bytes(), ("127.0.0.9", 1), 2.0
    )
    (regauth,) = full_frames(outputs)
    assert regauth.is_iax(IaxSubclass.REGAUTH)
    assert server.registrar is not None
    assert server.registrar.lookup("faxline1", 2.0) == MODEM


def test_registrar_exchange_is_closed_after_the_ack() -> None:
    server, outputs = iaxmodem_registers("s3cret")
    (regack,) = full_frames(outputs)
    ack = modem_frame("ack_regack")
    ack = dataclasses.replace(ack, destination_call=regack.source_call, iseqno=regack.oseqno + 1)
    server.datagram_received(bytes(ack), MODEM, 0.2)
    assert len(server.numbers) == 0  # the exchange's call number is free again
    assert not any(f.retransmission for f in full_frames(server.tick(5.0)))
    assert regack.frame_type == FrameType.IAX


def test_client_answers_a_call_token_request_like_asterisk_makes() -> None:
    numbers = CallNumbers(random.Random(1))
    client = RegistrationClient("line1", "s3cret", SERVER, numbers)
    (first,) = full_frames(client.start(0.0))
    assert first.ies.blob(IeType.CALLTOKEN) == b""  # we say we can do call tokens
    token_reply = FullFrame(
        1, first.source_call, first.timestamp, 0, 1, FrameType.IAX, IaxSubclass.CALLTOKEN,
        ies=InformationElements.build((IeType.CALLTOKEN, b"1764189000?4f2a")),
    )  # fmt: skip
    (again,) = full_frames(client.receive(token_reply, 0.05))
    assert again.is_iax(IaxSubclass.REGREQ)
    assert again.ies.blob(IeType.CALLTOKEN) == b"1764189000?4f2a"
    assert (again.source_call, again.destination_call, again.oseqno) == (first.source_call, 0, 0)
    # Only once: a second CALLTOKEN answer is not chased in a loop.
    assert client.receive(token_reply, 0.1) == []
