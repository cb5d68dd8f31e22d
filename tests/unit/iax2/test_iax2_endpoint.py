"""Endpoint duties: admission with MD5 challenge, duplicates, unknown messages, robustness."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from iax2_sim import Network

from faxgate.iax2.call import DialRequest
from faxgate.iax2.constants import FrameType, IaxSubclass, IeType, MediaFormat
from faxgate.iax2.endpoint import Admission, CallNumbers, CallRequest, Endpoint, admit_only_from
from faxgate.iax2.events import CallAnswered, CallEnded, IncomingCall, Output, Transmit
from faxgate.iax2.frames import FullFrame, parse_frame
from faxgate.iax2.ies import InformationElements, VersionedValue

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "iax2"
MODEM_CALL = int.from_bytes((FIXTURES / "new.bin").read_bytes()[:2], "big") & 0x7FFF  # its NEW's
A = ("127.0.0.1", 4570)
B = ("127.0.0.1", 4571)
MODEM = ("127.0.0.1", 40000)


def full_frames(outputs: list[Output]) -> list[FullFrame]:
    return [o.frame for o in outputs if isinstance(o, Transmit) and isinstance(o.frame, FullFrame)]


def challenging(secret: str) -> Endpoint:
    def admit(request: CallRequest) -> Admission:
        return Admission(True, secret=secret)

    return Endpoint(policy=admit, rng=random.Random(9), challenge_factory=lambda: "161803")


def call_with_secret(callee_secret: str, caller_secret: str) -> Network:
    net = Network()
    caller = net.attach(A, Endpoint(rng=random.Random(1)))
    callee = challenging(callee_secret)

    def answer(event: object, now: float) -> list[Output]:
        if isinstance(event, IncomingCall):
            return callee.answer(event.call_id, now)
        return []

    net.attach(B, callee, answer)
    _call_id, outputs = caller.dial(
        DialRequest(B, "100", username="line1", secret=caller_secret), 0.0
    )
    net.emit(A, outputs)
    net.run(3.0)
    return net


def test_callee_challenge_lets_the_right_secret_in() -> None:
    net = call_with_secret("s3cret", "s3cret")
    assert net.of_type(B, IncomingCall)
    assert net.of_type(A, CallAnswered)
    frames = [parse_frame(data) for source, data in net.sent if source == B]
    authreq = [f for f in frames if isinstance(f, FullFrame) and f.is_iax(IaxSubclass.AUTHREQ)]
    assert authreq[0].ies.text(IeType.CHALLENGE) == "161803"
    assert authreq[0].ies.text(IeType.USERNAME) == "line1"


def test_callee_challenge_keeps_a_wrong_secret_out() -> None:
    net = call_with_secret("s3cret", "guess")
    assert not net.of_type(B, IncomingCall)  # the application never hears of it
    (ended,) = net.of_type(A, CallEnded)
    assert ended.reason == "authentication failed"  # type: ignore[attr-defined]
    assert ended.remote is True  # type: ignore[attr-defined]
    assert net.endpoints[B].calls == {}


def test_a_retransmitted_new_does_not_make_a_second_call() -> None:
    endpoint = Endpoint(rng=random.Random(1))
    new = (FIXTURES / "new.bin").read_bytes()
    first = endpoint.datagram_received(new, MODEM, 0.0)
    retransmitted = bytearray(new)
    retransmitted[2] |= 0x80  # the R bit
    again = endpoint.datagram_received(bytes(retransmitted), MODEM, 0.6)
    assert len(endpoint.calls) == 1
    assert sum(isinstance(o, IncomingCall) for o in first + again) == 1
    (ack,) = full_frames(again)
    assert ack.is_iax(IaxSubclass.ACK)


def test_unknown_iax_messages_are_answered_with_unsupport() -> None:
    endpoint = Endpoint(rng=random.Random(1))
    (accept, _ringing) = full_frames(
        endpoint.datagram_received((FIXTURES / "new.bin").read_bytes(), MODEM, 0.0)
    )
    odd = FullFrame(MODEM_CALL, accept.source_call, 50, 1, 2, FrameType.IAX, 0x6E)
    replies = full_frames(endpoint.datagram_received(bytes(odd), MODEM, 0.1))
    unsupport = [f for f in replies if f.is_iax(IaxSubclass.UNSUPPORT)]
    assert [f.ies.get(IeType.IAX_UNKNOWN) for f in unsupport] == [0x6E]


def test_frames_from_another_address_do_not_reach_a_call() -> None:
    endpoint = Endpoint(rng=random.Random(1))
    (accept, _ringing) = full_frames(
        endpoint.datagram_received((FIXTURES / "new.bin").read_bytes(), MODEM, 0.0)
    )
    hangup = FullFrame(MODEM_CALL, accept.source_call, 50, 1, 2, FrameType.IAX, IaxSubclass.HANGUP)
    replies = endpoint.datagram_received(bytes(hangup), ("127.0.0.66", 40000), 0.1)
    assert [f.subclass for f in full_frames(replies)] == [IaxSubclass.INVAL]
    assert accept.source_call in endpoint.calls


def test_call_numbers_are_unique_and_not_reused_at_once() -> None:
    numbers = CallNumbers(random.Random(4))
    taken = [numbers.allocate(object()) for _ in range(1000)]
    assert len(set(taken)) == 1000
    assert all(1 <= n <= 0x7FFF for n in taken)
    numbers.release(taken[0])
    assert numbers.allocate(object()) != taken[0]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(sorted(FIXTURES.glob("*.bin"))),
    st.lists(st.tuples(st.integers(0, 400), st.integers(0, 255)), max_size=4),
    st.floats(0.0, 100.0),
)
def test_a_live_call_survives_mutated_datagrams(
    path: Path, edits: list[tuple[int, int]], at: float
) -> None:
    endpoint = Endpoint(rng=random.Random(1))
    (accept, _ringing) = full_frames(
        endpoint.datagram_received((FIXTURES / "new.bin").read_bytes(), MODEM, 0.0)
    )
    frame = parse_frame(path.read_bytes())
    if isinstance(frame, FullFrame):  # address it to the live call so the call code is exercised
        frame = dataclasses.replace(
            frame, source_call=MODEM_CALL, destination_call=accept.source_call
        )
    data = bytearray(bytes(frame))
    for position, value in edits:
        data[position % len(data)] = value
    endpoint.datagram_received(bytes(data), MODEM, at)
    endpoint.tick(at + 1.0)
    assert endpoint.stats["internal_error"] == 0


def test_trunk_policy_admits_only_the_configured_hosts() -> None:
    policy = admit_only_from(["127.0.0.1"])
    endpoint = Endpoint(policy=policy, rng=random.Random(1))
    new = (FIXTURES / "new.bin").read_bytes()
    (reject,) = full_frames(endpoint.datagram_received(new, ("127.0.0.2", 4569), 0.0))
    assert reject.is_iax(IaxSubclass.REJECT)
    assert "127.0.0.2" in reject.ies.text(IeType.CAUSE)
    outputs = endpoint.datagram_received(new, MODEM, 0.0)
    assert any(isinstance(o, IncomingCall) for o in outputs)
    challenged = admit_only_from(["127.0.0.1"], secret="x")
    request = CallRequest(MODEM, "100", "", "", "100", "faxline1", 0x4C, 0x40)
    assert challenged(request) == Admission(True, secret="x")


def test_a_new_with_only_64_bit_formats_is_understood() -> None:
    endpoint = Endpoint(rng=random.Random(1))
    new = FullFrame(
        77, 0, 1, 0, 0, FrameType.IAX, IaxSubclass.NEW,
        ies=InformationElements.build(
            (IeType.VERSION, 2),
            (IeType.CAPABILITY2, VersionedValue(0, int(MediaFormat.ALAW) | 1 << 40)),
            (IeType.FORMAT2, VersionedValue(0, int(MediaFormat.ALAW))),
        ),
    )  # fmt: skip
    outputs = endpoint.datagram_received(bytes(new), MODEM, 0.0)
    accept = full_frames(outputs)[0]
    assert accept.is_iax(IaxSubclass.ACCEPT)
    assert accept.ies.get(IeType.FORMAT) == MediaFormat.ALAW
