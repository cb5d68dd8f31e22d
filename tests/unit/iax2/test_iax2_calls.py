"""Calls between endpoints over a simulated (lossy) link, and against captured iaxmodem frames."""

from __future__ import annotations

import dataclasses
import hashlib
import random
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from iax2_sim import Network

from faxgate.iax2.call import Call, CallState, CallTimers, DialRequest
from faxgate.iax2.codecs import encode as codecs_encode
from faxgate.iax2.constants import (
    CauseCode,
    ControlSubclass,
    FrameType,
    IaxSubclass,
    IeType,
    MediaFormat,
)
from faxgate.iax2.endpoint import Admission, CallRequest, Endpoint, EndpointConfig
from faxgate.iax2.events import (
    AudioReceived,
    CallAccepted,
    CallAnswered,
    CallEnded,
    CallRinging,
    Event,
    IncomingCall,
    Output,
    Transmit,
)
from faxgate.iax2.frames import FullFrame, MiniFrame, parse_frame
from faxgate.iax2.ies import InformationElements

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "iax2"
MODEM_CALL = int.from_bytes((FIXTURES / "new.bin").read_bytes()[:2], "big") & 0x7FFF  # its NEW's
A = ("127.0.0.1", 4570)
B = ("127.0.0.1", 4571)
MODEM = ("127.0.0.1", 40000)


def block(counter: int) -> np.ndarray:
    """20 ms of audio that says which block it is."""
    return ((np.arange(160, dtype=np.int32) * 37 + counter * 1013) % 60000 - 30000).astype(np.int16)


def transmits(outputs: list[Output]) -> list[FullFrame]:
    return [o.frame for o in outputs if isinstance(o, Transmit) and isinstance(o.frame, FullFrame)]


def events(outputs: list[Output], kind: type[Event]) -> list[Event]:
    return [o for o in outputs if isinstance(o, kind)]


class Phone:
    """Test application: answers incoming calls and streams numbered audio blocks while up."""

    def __init__(self, net: Network, address: tuple[str, int], endpoint: Endpoint) -> None:
        self.net, self.address, self.endpoint = net, address, endpoint
        self.up: set[int] = set()
        self.sent: list[np.ndarray] = []
        net.attach(address, endpoint, self.on_event)

    def on_event(self, event: Event, now: float) -> list[Output]:
        if isinstance(event, IncomingCall):
            return self.endpoint.answer(event.call_id, now)
        if isinstance(event, CallAnswered):
            self.up.add(event.call_id)
        if isinstance(event, CallEnded):
            self.up.discard(event.call_id)
        return []

    def stream(self, now: float) -> None:
        if round(now * 1000) % 20:
            return
        for call_id in list(self.up):
            samples = block(len(self.sent))
            self.sent.append(samples)
            self.net.emit(self.address, self.endpoint.send_audio(call_id, samples, now))

    def received(self) -> list[np.ndarray]:
        return [e.samples for e in self.net.of_type(self.address, AudioReceived)]  # type: ignore[attr-defined]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_whole_call_over_a_link_dropping_ten_percent(seed: int) -> None:
    net = Network(loss=0.10, seed=seed)
    # PING every second: plenty of full frames for the loss to hit, so retransmission is used.
    config = EndpointConfig(timers=CallTimers(ping_interval=1.0))
    caller = Phone(net, A, Endpoint(config=config, rng=random.Random(seed)))
    callee = Phone(net, B, Endpoint(config=config, rng=random.Random(seed + 100)))
    call_id, outputs = caller.endpoint.dial(DialRequest(B, "100", "5551234", "Caller"), 0.0)
    net.emit(A, outputs)

    def each_step(now: float) -> None:
        caller.stream(now)
        callee.stream(now)
        if now == 15.0:
            net.emit(A, caller.endpoint.hangup(call_id, now))

    net.run(40.0, each_step=each_step)

    assert net.dropped > 0
    assert any(data[2] & 0x80 for _, data in net.sent if data[0] & 0x80)  # R bit: retransmitted
    incoming = net.of_type(B, IncomingCall)
    assert [e.called_number for e in incoming] == ["100"]  # type: ignore[attr-defined]
    assert net.of_type(A, CallAnswered)
    ended_a = net.of_type(A, CallEnded)
    ended_b = net.of_type(B, CallEnded)
    assert len(ended_a) == 1
    assert len(ended_b) == 1
    assert ended_a[0].remote is False  # type: ignore[attr-defined]
    assert ended_b[0].remote is True  # type: ignore[attr-defined]
    assert ended_b[0].cause_code == CauseCode.NORMAL_CLEARING  # type: ignore[attr-defined]
    assert caller.endpoint.calls == {}
    assert callee.endpoint.calls == {}
    # Audio is unreliable by design: most of it arrives, and what arrives is exact (SLINEAR).
    for sender, receiver in ((caller, callee), (callee, caller)):
        got = receiver.received()
        assert len(got) >= 0.8 * len(sender.sent)
        sent = {s.tobytes() for s in sender.sent}
        assert all(samples.tobytes() in sent for samples in got)


def test_iaxmodem_new_is_accepted_with_slinear_and_reported() -> None:
    endpoint = Endpoint(rng=random.Random(5))
    outputs = endpoint.datagram_received((FIXTURES / "new.bin").read_bytes(), MODEM, 1.0)
    frames = transmits(outputs)
    accept, ringing = frames
    assert accept.is_iax(IaxSubclass.ACCEPT)
    assert accept.ies.get(IeType.FORMAT) == MediaFormat.SLINEAR
    assert accept.destination_call == MODEM_CALL  # the modem's source call number
    assert (accept.oseqno, accept.iseqno) == (0, 1)  # iseqno 1 acknowledges the NEW
    assert (ringing.frame_type, ringing.subclass) == (FrameType.CONTROL, ControlSubclass.RINGING)
    (incoming,) = events(outputs, IncomingCall)
    assert incoming.dnid == "100"  # type: ignore[attr-defined]
    assert incoming.called_number == "100"  # type: ignore[attr-defined]
    assert incoming.calling_number == "5551234"  # type: ignore[attr-defined]
    # The modem's voice frames for that call are decoded (its call number routes them).
    call_id = incoming.call_id  # type: ignore[attr-defined]
    endpoint.answer(call_id, 1.1)
    voice = parse_frame((FIXTURES / "full_voice_slinear.bin").read_bytes())
    assert isinstance(voice, FullFrame)
    voice = dataclasses.replace(voice, destination_call=call_id)
    heard = endpoint.datagram_received(bytes(voice), MODEM, 1.2)
    heard += endpoint.datagram_received(
        (FIXTURES / "mini_voice_slinear.bin").read_bytes(), MODEM, 1.22
    )
    audio = events(heard, AudioReceived)
    assert len(audio) == 2
    assert all(len(a.samples) == 160 for a in audio)  # type: ignore[attr-defined]
    assert any(
        f.is_iax(IaxSubclass.ACK) and f.timestamp == voice.timestamp for f in transmits(heard)
    )


def test_policy_refusal_sends_reject_and_forgets_the_call_once_acked() -> None:
    def only_from_server(request: CallRequest) -> Admission:
        return Admission(False, f"calls from {request.peer[0]} are not allowed")

    endpoint = Endpoint(policy=only_from_server, rng=random.Random(1))
    outputs = endpoint.datagram_received((FIXTURES / "new.bin").read_bytes(), MODEM, 0.0)
    (reject,) = transmits(outputs)
    assert reject.is_iax(IaxSubclass.REJECT)
    assert "not allowed" in reject.ies.text(IeType.CAUSE)
    assert not events(outputs, IncomingCall)
    ack = FullFrame(
        MODEM_CALL, reject.source_call, reject.timestamp, 1, 1, FrameType.IAX, IaxSubclass.ACK
    )
    endpoint.datagram_received(bytes(ack), MODEM, 0.1)
    endpoint.tick(0.2)
    assert endpoint.calls == {}


def test_no_common_codec_is_rejected() -> None:
    endpoint = Endpoint(rng=random.Random(1))
    new = FullFrame(
        77, 0, 1, 0, 0, FrameType.IAX, IaxSubclass.NEW,
        ies=InformationElements.build(
            (IeType.VERSION, 2), (IeType.FORMAT, int(MediaFormat.GSM)),
            (IeType.CAPABILITY, int(MediaFormat.GSM)),
        ),
    )  # fmt: skip
    (reject,) = transmits(endpoint.datagram_received(bytes(new), MODEM, 0.0))
    assert reject.is_iax(IaxSubclass.REJECT)
    assert reject.ies.get(IeType.CAUSECODE) == CauseCode.BEARERCAPABILITY_NOTAVAIL


def _answer_to(
    new: FullFrame, subclass: int, ies: InformationElements, oseqno: int = 0
) -> FullFrame:
    return FullFrame(900, new.source_call, 10 + oseqno, oseqno, 1, FrameType.IAX, subclass, ies=ies)


def test_outgoing_call_with_md5_authentication() -> None:
    request = DialRequest(B, "0991234", username="line1", secret="s3cret")
    call, outputs = Call.dial(42, request, 0.0)
    (new,) = transmits(outputs)
    assert new.is_iax(IaxSubclass.NEW)
    assert new.ies.blob(IeType.CALLTOKEN) == b""  # we offer call-token support
    authreq = _answer_to(
        new,
        IaxSubclass.AUTHREQ,
        InformationElements.build((IeType.AUTHMETHODS, 2), (IeType.CHALLENGE, "271828")),
    )
    (authrep,) = transmits(call.receive_full(authreq, 0.1))
    expected = hashlib.md5(b"271828s3cret").hexdigest()
    assert authrep.is_iax(IaxSubclass.AUTHREP)
    assert authrep.ies.text(IeType.MD5_RESULT) == expected
    accept = _answer_to(new, IaxSubclass.ACCEPT, InformationElements.build((IeType.FORMAT, 4)), 1)
    out = call.receive_full(accept, 0.2)
    assert events(out, CallAccepted)
    assert call.media_format == MediaFormat.ULAW
    ringing = FullFrame(900, 42, 30, 2, 2, FrameType.CONTROL, ControlSubclass.RINGING)
    assert events(call.receive_full(ringing, 0.3), CallRinging)
    answer = FullFrame(900, 42, 40, 3, 2, FrameType.CONTROL, ControlSubclass.ANSWER)
    out = call.receive_full(answer, 0.4)
    assert events(out, CallAnswered)
    assert call.state is CallState.UP
    assert [f.subclass for f in transmits(out)] == [IaxSubclass.ACK]


def test_authentication_without_a_secret_hangs_up_with_a_reason() -> None:
    call, outputs = Call.dial(42, DialRequest(B, "100"), 0.0)
    (new,) = transmits(outputs)
    authreq = _answer_to(
        new,
        IaxSubclass.AUTHREQ,
        InformationElements.build((IeType.AUTHMETHODS, 2), (IeType.CHALLENGE, "1")),
    )
    out = call.receive_full(authreq, 0.1)
    assert any(f.is_iax(IaxSubclass.HANGUP) for f in transmits(out))
    (ended,) = events(out, CallEnded)
    assert "password" in ended.reason  # type: ignore[attr-defined]


def test_caller_resends_new_with_the_call_token() -> None:
    call, outputs = Call.dial(42, DialRequest(B, "100"), 0.0)
    (new,) = transmits(outputs)
    token_reply = FullFrame(
        0, 42, new.timestamp, 0, 1, FrameType.IAX, IaxSubclass.CALLTOKEN,
        ies=InformationElements.build((IeType.CALLTOKEN, b"1234?feed")),
    )  # fmt: skip
    (again,) = transmits(call.receive_full(token_reply, 0.05))
    assert again.is_iax(IaxSubclass.NEW)
    assert again.ies.blob(IeType.CALLTOKEN) == b"1234?feed"
    assert (again.source_call, again.oseqno, again.iseqno) == (42, 0, 0)
    assert call.dialog.unacknowledged == 1  # only the new NEW is waiting, not the first one


def test_callee_requiring_call_tokens_still_completes_calls() -> None:
    net = Network()
    caller = Phone(net, A, Endpoint(rng=random.Random(1)))
    Phone(net, B, Endpoint(config=EndpointConfig(require_calltoken=True), rng=random.Random(2)))
    _call_id, outputs = caller.endpoint.dial(DialRequest(B, "100"), 0.0)
    net.emit(A, outputs)
    net.run(2.0)
    assert net.of_type(A, CallAnswered)
    frames = [parse_frame(data) for source, data in net.sent if source == B]
    assert any(isinstance(f, FullFrame) and f.is_iax(IaxSubclass.CALLTOKEN) for f in frames)


def test_callee_requiring_call_tokens_rejects_a_new_without_one() -> None:
    endpoint = Endpoint(config=EndpointConfig(require_calltoken=True), rng=random.Random(1))
    (reject,) = transmits(
        endpoint.datagram_received((FIXTURES / "new.bin").read_bytes(), MODEM, 0.0)
    )
    assert reject.is_iax(IaxSubclass.REJECT)
    assert "token" in reject.ies.text(IeType.CAUSE)


def test_a_forged_call_token_is_not_accepted() -> None:
    endpoint = Endpoint(config=EndpointConfig(require_calltoken=True), rng=random.Random(1))
    new = parse_frame((FIXTURES / "new.bin").read_bytes())
    assert isinstance(new, FullFrame)
    forged_ies = InformationElements(
        (*new.ies.elements, *InformationElements.build((IeType.CALLTOKEN, b"0?bad")))
    )
    forged = dataclasses.replace(new, ies=forged_ies)
    (reply,) = transmits(endpoint.datagram_received(bytes(forged), MODEM, 5.0))
    assert reply.is_iax(IaxSubclass.CALLTOKEN)  # asked again, not let in
    assert endpoint.calls == {}


def _incoming_call() -> tuple[Call, FullFrame]:
    new = parse_frame((FIXTURES / "new.bin").read_bytes())
    assert isinstance(new, FullFrame)
    call, _ = Call.incoming(300, new, MODEM, int(MediaFormat.SLINEAR), 0.0)
    call.answer(0.01)
    return call, new


def test_ping_and_lagrq_are_answered_with_their_timestamp() -> None:
    call, new = _incoming_call()
    ping = FullFrame(new.source_call, 300, 5000, 1, 3, FrameType.IAX, IaxSubclass.PING)
    (pong,) = transmits(call.receive_full(ping, 5.0))
    assert pong.is_iax(IaxSubclass.PONG)
    assert pong.timestamp == 5000
    lagrq = FullFrame(new.source_call, 300, 6000, 2, 3, FrameType.IAX, IaxSubclass.LAGRQ)
    (lagrp,) = transmits(call.receive_full(lagrq, 6.0))
    assert lagrp.is_iax(IaxSubclass.LAGRP)
    assert lagrp.timestamp == 6000


def test_captured_ping_gets_a_pong() -> None:
    call, _new = _incoming_call()
    ping = parse_frame((FIXTURES / "ping.bin").read_bytes())
    assert isinstance(ping, FullFrame)
    ping = dataclasses.replace(ping, destination_call=300, oseqno=1, iseqno=3)
    (pong,) = transmits(call.receive_full(ping, 2.0))
    assert pong.is_iax(IaxSubclass.PONG)
    assert pong.timestamp == ping.timestamp


def test_a_peer_that_goes_silent_is_hung_up_within_the_bound() -> None:
    timers = CallTimers(peer_silence=3.0)
    net = Network()
    caller = Phone(net, A, Endpoint(config=EndpointConfig(timers=timers), rng=random.Random(1)))
    callee = Phone(net, B, Endpoint(rng=random.Random(2)))
    _call_id, outputs = caller.endpoint.dial(DialRequest(B, "100"), 0.0)
    net.emit(A, outputs)

    def each_step(now: float) -> None:
        caller.stream(now)
        if now < 2.0:
            callee.stream(now)
        elif B in net.endpoints:
            del net.endpoints[B]  # the far end vanishes: no audio, no ACKs

    net.run(10.0, each_step=each_step)
    (ended,) = net.of_type(A, CallEnded)
    assert "lost" in ended.reason  # type: ignore[attr-defined]
    assert ended.cause_code == CauseCode.TEMPORARY_FAILURE  # type: ignore[attr-defined]
    (ended_at,) = [t for t, source, e in net.timeline if source == A and isinstance(e, CallEnded)]
    # The callee's last audio arrived just before 2.0 s: the end comes one silence bound later.
    assert 2.0 + timers.peer_silence - 0.05 < ended_at <= 2.0 + timers.peer_silence + 0.05
    assert caller.endpoint.calls == {}


def test_unanswered_new_is_retransmitted_then_given_up() -> None:
    endpoint = Endpoint(rng=random.Random(1))
    call_id, outputs = endpoint.dial(DialRequest(B, "100"), 0.0)
    sent = transmits(outputs)
    ended: list[Event] = []
    now = 0.0
    while now < 60 and not ended:
        now = round(now + 0.05, 3)
        out = endpoint.tick(now)
        sent += transmits(out)
        ended += events(out, CallEnded)
    policy = endpoint.config.retransmit
    assert len(sent) == 1 + policy.attempts
    assert all(f.retransmission for f in sent[1:])
    assert not sent[0].retransmission
    assert {f.oseqno for f in sent} == {0}
    assert "stopped acknowledging" in ended[0].reason  # type: ignore[attr-defined]
    assert call_id not in endpoint.calls


def test_frames_for_unknown_calls_get_inval_but_acks_do_not() -> None:
    endpoint = Endpoint(rng=random.Random(1))
    stray = FullFrame(55, 1234, 99, 4, 2, FrameType.CONTROL, ControlSubclass.ANSWER)
    (inval,) = transmits(endpoint.datagram_received(bytes(stray), MODEM, 0.0))
    assert inval.is_iax(IaxSubclass.INVAL)
    assert (inval.source_call, inval.destination_call) == (1234, 55)
    ack = FullFrame(55, 1234, 99, 4, 2, FrameType.IAX, IaxSubclass.ACK)
    assert endpoint.datagram_received(bytes(ack), MODEM, 0.0) == []
    assert endpoint.datagram_received(b"\x80", MODEM, 0.0) == []
    assert endpoint.stats["malformed"] == 1
    assert endpoint.stats["inval_sent"] == 1


def test_inval_ends_a_call() -> None:
    call, new = _incoming_call()
    inval = FullFrame(new.source_call, 300, 10, 1, 3, FrameType.IAX, IaxSubclass.INVAL)
    (ended,) = events(call.receive_full(inval, 1.0), CallEnded)
    assert ended.remote is True  # type: ignore[attr-defined]
    assert call.finished


def test_poke_gets_a_pong_without_a_call() -> None:
    endpoint = Endpoint(rng=random.Random(1))
    poke = FullFrame(66, 0, 1234, 0, 0, FrameType.IAX, IaxSubclass.POKE)
    (pong,) = transmits(endpoint.datagram_received(bytes(poke), MODEM, 0.0))
    assert pong.is_iax(IaxSubclass.PONG)
    assert pong.destination_call == 66
    assert pong.timestamp == 1234
    assert endpoint.calls == {}


def test_voice_timestamps_wrap_with_a_full_frame_and_are_rebuilt_by_the_receiver() -> None:
    timers = CallTimers(peer_silence=1000.0, ping_interval=1000.0, answer_timeout=1000.0)
    config = EndpointConfig(timers=timers)
    net = Network()
    caller = Phone(net, A, Endpoint(config=config, rng=random.Random(1)))
    Phone(net, B, Endpoint(config=config, rng=random.Random(2)))
    _call_id, outputs = caller.endpoint.dial(DialRequest(B, "100"), 0.0)
    net.emit(A, outputs)
    net.run(140.0, step=0.02, each_step=caller.stream)

    voice = [parse_frame(data) for source, data in net.sent if source == A]
    full_voice = [f for f in voice if isinstance(f, FullFrame) and f.frame_type == FrameType.VOICE]
    minis = [f for f in voice if isinstance(f, MiniFrame)]
    assert len(minis) > 6000
    # One full frame to start, then one each time the low 16 bits wrap (at 65.536 s, 131.072 s).
    assert [f.timestamp >> 16 for f in full_voice] == [0, 1, 2]
    assert all((f.timestamp & 0xFFFF) < 20 for f in full_voice[1:])
    stamps = [e.timestamp for e in net.of_type(B, AudioReceived)]  # type: ignore[attr-defined]
    assert stamps == sorted(stamps)
    assert len(set(stamps)) == len(stamps)
    assert stamps[-1] > 0x20000
    assert np.all(np.diff(stamps) == 20)  # a steady 20 ms stream, rebuilt across both wraps


def test_hangup_is_retransmitted_until_acknowledged() -> None:
    call, new = _incoming_call()
    # The modem acknowledges ACCEPT, RINGING and ANSWER (our oseqno 0..2) with iseqno 3.
    call.receive_full(FullFrame(new.source_call, 300, 5, 1, 3, FrameType.IAX, IaxSubclass.ACK), 0.5)
    assert call.dialog.unacknowledged == 0
    out = call.hangup(1.0, "done", CauseCode.NORMAL_CLEARING)
    (hangup,) = transmits(out)
    assert hangup.is_iax(IaxSubclass.HANGUP)
    assert events(out, CallEnded)
    assert call.state is CallState.HANGING_UP
    again = transmits(call.tick(2.0))
    assert [f.retransmission for f in again] == [True]
    ack = FullFrame(
        new.source_call, 300, hangup.timestamp, 1, hangup.oseqno + 1, FrameType.IAX, IaxSubclass.ACK
    )
    call.receive_full(ack, 2.1)
    assert call.finished
    assert not call.tick(10.0)


def test_call_survives_loss_and_reordering_jitter() -> None:
    net = Network(loss=0.05, jitter=0.06, seed=11)
    config = EndpointConfig(timers=CallTimers(ping_interval=0.5))
    caller = Phone(net, A, Endpoint(config=config, rng=random.Random(1)))
    callee = Phone(net, B, Endpoint(config=config, rng=random.Random(2)))
    call_id, outputs = caller.endpoint.dial(DialRequest(B, "100"), 0.0)
    net.emit(A, outputs)

    def each_step(now: float) -> None:
        caller.stream(now)
        callee.stream(now)
        if now == 10.0:
            net.emit(A, caller.endpoint.hangup(call_id, now))

    net.run(30.0, each_step=each_step)
    frames = [parse_frame(data) for _, data in net.sent]
    assert any(isinstance(f, FullFrame) and f.is_iax(IaxSubclass.VNAK) for f in frames)
    assert len(net.of_type(A, CallEnded)) == 1
    assert len(net.of_type(B, CallEnded)) == 1
    assert net.of_type(B, CallEnded)[0].cause_code == CauseCode.NORMAL_CLEARING  # type: ignore[attr-defined]
    assert caller.endpoint.calls == {}
    assert callee.endpoint.calls == {}
    assert len(callee.received()) >= 0.85 * len(caller.sent)


def test_peer_codec_change_by_full_voice_frame_applies_to_later_mini_frames() -> None:
    call, new = _incoming_call()  # negotiated SLINEAR
    tone = np.array([1000, -1000] * 80, dtype=np.int16)
    ulaw = bytes(codecs_encode(MediaFormat.ULAW, tone))
    full = FullFrame(
        new.source_call, 300, 40, 1, 3, FrameType.VOICE, int(MediaFormat.ULAW), payload=ulaw
    )
    mini = MiniFrame(new.source_call, 60, ulaw)
    heard = events(call.receive_full(full, 1.0) + call.receive_mini(mini, 1.02), AudioReceived)
    assert len(heard) == 2
    for event in heard:
        samples = event.samples  # type: ignore[attr-defined]
        assert len(samples) == 160  # 1 octet per sample: decoded as µ-law, not as SLINEAR
        assert np.all(np.abs(samples.astype(int) - tone) <= 1000 // 16 + 16)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32), st.floats(0.0, 0.15), st.floats(0.0, 0.06))
def test_impaired_calls_complete_or_end_clearly_and_never_hang(
    seed: int, loss: float, jitter: float
) -> None:
    net = Network(loss=loss, jitter=jitter, seed=seed)
    caller = Phone(net, A, Endpoint(rng=random.Random(seed)))
    callee = Phone(net, B, Endpoint(rng=random.Random(seed + 1)))
    call_id, outputs = caller.endpoint.dial(DialRequest(B, "100"), 0.0)
    net.emit(A, outputs)

    def each_step(now: float) -> None:
        caller.stream(now)
        callee.stream(now)
        if now == 8.0:
            net.emit(A, caller.endpoint.hangup(call_id, now))

    net.run(45.0, each_step=each_step)
    assert caller.endpoint.calls == {}  # nothing left waiting on either side
    assert callee.endpoint.calls == {}
    (ended,) = net.of_type(A, CallEnded)
    assert ended.reason  # type: ignore[attr-defined]
    assert len(net.of_type(B, CallEnded)) <= 1
    if net.of_type(A, CallAnswered):
        (far_end,) = net.of_type(B, CallEnded)
        assert far_end.reason  # type: ignore[attr-defined]


def test_our_outgoing_call_understands_an_answering_iaxmodem() -> None:
    call, _new = Call.dial(300, DialRequest(MODEM, "200", "5550199", "faxgate"), 0.0)
    got: list[Output] = []
    for name, at in (("accept_from_modem", 0.01), ("ringing_from_modem", 0.02), ("answer_from_modem", 0.03),
                     ("full_voice_from_answering_modem", 0.12)):  # fmt: skip
        frame = parse_frame((FIXTURES / f"{name}.bin").read_bytes())
        assert isinstance(frame, FullFrame)
        assert frame.destination_call == 300  # captured against call number 300, like ours
        got += call.receive_full(frame, at)
    mini = parse_frame((FIXTURES / "mini_voice_from_answering_modem.bin").read_bytes())
    assert isinstance(mini, MiniFrame)
    got += call.receive_mini(mini, 0.14)
    (accepted,) = events(got, CallAccepted)
    assert accepted.media_format == MediaFormat.SLINEAR  # type: ignore[attr-defined]
    assert events(got, CallRinging)
    assert events(got, CallAnswered)
    assert call.state is CallState.UP
    audio = events(got, AudioReceived)
    assert [a.timestamp for a in audio] == [120, 140]  # type: ignore[attr-defined]
    # Every one of the modem's sequenced frames was acknowledged, in order.
    acks = [f for f in transmits(got) if f.is_iax(IaxSubclass.ACK)]
    assert [a.iseqno for a in acks] == [1, 2, 3, 4]


def test_a_pbx_asking_for_a_media_transfer_is_told_no() -> None:
    call, new = _incoming_call()
    txreq = FullFrame(
        new.source_call, 300, 900, 1, 3, FrameType.IAX, IaxSubclass.TXREQ,
        ies=InformationElements.build((IeType.CALLNO, 4242), (IeType.TRANSFERID, 7)),
    )  # fmt: skip
    replies = transmits(call.receive_full(txreq, 1.0))
    assert [f.subclass for f in replies] == [IaxSubclass.ACK, IaxSubclass.TXREJ]
    assert call.state is CallState.UP  # the call itself goes on
