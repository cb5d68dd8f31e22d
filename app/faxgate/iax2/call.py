"""One IAX2 call leg as a state machine without I/O.

Outgoing: NEW → [CALLTOKEN → NEW with token] → [AUTHREQ → AUTHREP] → ACCEPT → RINGING → ANSWER
→ up → HANGUP. Incoming: NEW (the endpoint checked the policy and chose the codec) →
[AUTHREQ → AUTHREP checked] → ACCEPT → RINGING → the application calls `answer()` → ANSWER → up. While up, audio goes out with
`send_audio` (a full voice frame first, after a codec change and whenever the 16-bit mini-frame
timestamp wraps) and comes in as `AudioReceived`. PING/PONG and LAGRQ/LAGRP are answered.
A call whose peer goes silent, never answers or stops acknowledging ends with `CallEnded`.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import Enum

from faxgate.iax2 import codecs
from faxgate.iax2.constants import (
    IAX_PROTOCOL_VERSION,
    AuthMethod,
    CauseCode,
    ControlSubclass,
    FrameType,
    IaxSubclass,
    IeType,
)
from faxgate.iax2.events import (
    Address,
    AudioReceived,
    CallAccepted,
    CallAnswered,
    CallEnded,
    CallRinging,
    Event,
    Output,
    Transmit,
)
from faxgate.iax2.frames import FullFrame, MiniFrame
from faxgate.iax2.ies import IeValue, InformationElements, VersionedValue
from faxgate.iax2.sequencing import Dialog, RetransmitPolicy

_MINI_WRAP = 0x10000
_KNOWN_IAX_SUBCLASSES = frozenset(int(subclass) for subclass in IaxSubclass)


def md5_response(challenge: str, secret: str) -> str:
    """The MD5_RESULT for a CHALLENGE: hex MD5 of challenge then secret (RFC 5456 8.6.15)."""
    data = (challenge + secret).encode("utf-8", "surrogateescape")
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


class CallState(Enum):
    DIALLING = "dialling"  # NEW sent, waiting for ACCEPT/AUTHREQ/CALLTOKEN/REJECT
    AUTHENTICATING = "authenticating"  # outgoing: AUTHREP sent; incoming: AUTHREQ sent
    ACCEPTED = "accepted"  # ACCEPT sent or received, no ringing yet
    RINGING = "ringing"
    UP = "up"
    HANGING_UP = "hanging up"  # our HANGUP/REJECT is waiting for its ACK
    ENDED = "ended"


@dataclass(frozen=True)
class CallTimers:
    """Bounds on how long a call may wait; all in seconds."""

    answer_timeout: float = 60.0  # NEW to ANSWER
    peer_silence: float = 10.0  # nothing at all heard from the peer while up
    ping_interval: float = 10.0  # PING to keep the round trip measured


@dataclass(frozen=True)
class DialRequest:
    """What an outgoing call needs: where, which number, and who we are."""

    peer: Address
    called_number: str
    calling_number: str = ""
    calling_name: str = ""
    username: str = ""
    secret: str = ""
    dnid: str = ""
    capability: int = codecs.SUPPORTED_CAPABILITY
    preferred_format: int = int(codecs.SUPPORTED_FORMATS[0])
    offer_calltoken: bool = True


def _format_from(ies: InformationElements) -> int | None:
    wide = ies.get(IeType.FORMAT2)
    if isinstance(wide, VersionedValue):
        return wide.value
    return ies.number(IeType.FORMAT)


class Call:
    """A call leg; create with `Call.dial` or `Call.incoming`, then feed it frames and time."""

    def __init__(
        self,
        local_call: int,
        peer: Address,
        now: float,
        *,
        outgoing: bool,
        timers: CallTimers | None = None,
        policy: RetransmitPolicy | None = None,
    ) -> None:
        self.dialog = Dialog(local_call, peer, now, policy=policy)
        self.outgoing = outgoing
        self.timers = timers or CallTimers()
        self.state = CallState.DIALLING if outgoing else CallState.ACCEPTED
        self.media_format: int | None = None
        self.started = now
        self.last_heard = now
        self.end_reason: CallEnded | None = None
        self._request: DialRequest | None = None
        self._announce: Event | None = None
        self._expected_md5: str | None = None
        self._tokens_tried = 0
        self._tx_voice_timestamp: int | None = None
        self._tx_voice_format: int | None = None
        self._rx_voice_timestamp = 0
        self._rx_voice_format: int | None = None  # the codec of the peer's last full voice frame
        self._next_ping = now + self.timers.ping_interval

    @property
    def call_id(self) -> int:
        return self.dialog.local_call

    @property
    def peer(self) -> Address:
        return self.dialog.peer

    @property
    def remote_call(self) -> int:
        return self.dialog.remote_call

    @property
    def finished(self) -> bool:
        """True once nothing more will be sent or received: the endpoint forgets the call."""
        return self.state is CallState.ENDED

    # -- creation --------------------------------------------------------------------------

    @classmethod
    def dial(
        cls,
        local_call: int,
        request: DialRequest,
        now: float,
        *,
        timers: CallTimers | None = None,
        policy: RetransmitPolicy | None = None,
    ) -> tuple[Call, list[Output]]:
        call = cls(local_call, request.peer, now, outgoing=True, timers=timers, policy=policy)
        call._request = request
        return call, [call._send_new(now, token=b"" if request.offer_calltoken else None)]

    @classmethod
    def incoming(
        cls,
        local_call: int,
        new: FullFrame,
        peer: Address,
        media_format: int,
        now: float,
        *,
        announce: Event | None = None,
        challenge: str = "",
        secret: str | None = None,
        timers: CallTimers | None = None,
        policy: RetransmitPolicy | None = None,
    ) -> tuple[Call, list[Output]]:
        """Take in a NEW the endpoint has already admitted.

        Without `secret`: ACCEPT and RINGING go out at once. With it, the caller is first
        challenged (AUTHREQ with `challenge`) and accepted only if its AUTHREP proves the secret.
        `announce` (the endpoint's `IncomingCall`) is emitted when the call is accepted.
        """
        call = cls(local_call, peer, now, outgoing=False, timers=timers, policy=policy)
        received = call.dialog.receive(new, now)
        call.media_format = media_format
        call._announce = announce
        outputs: list[Output] = list(received.outputs)
        if secret is None:
            return call, outputs + call._accept_incoming(now)
        call._expected_md5 = md5_response(challenge, secret)
        call.state = CallState.AUTHENTICATING
        ies = InformationElements.build(
            (IeType.AUTHMETHODS, int(AuthMethod.MD5)),
            (IeType.CHALLENGE, challenge),
            (IeType.USERNAME, new.ies.text(IeType.USERNAME)),
        )
        outputs.append(call.dialog.send_iax(IaxSubclass.AUTHREQ, now, ies))
        return call, outputs

    def _accept_incoming(self, now: float) -> list[Output]:
        assert self.media_format is not None
        accept = InformationElements.build((IeType.FORMAT, self.media_format))
        outputs: list[Output] = [self.dialog.send_iax(IaxSubclass.ACCEPT, now, accept)]
        outputs.append(self.dialog.send(FrameType.CONTROL, ControlSubclass.RINGING, now))
        self.state = CallState.RINGING
        if self._announce is not None:
            outputs.append(self._announce)
        return outputs

    def _on_authrep(self, frame: FullFrame, now: float) -> list[Output]:
        expected = self._expected_md5
        if self.outgoing or self.state is not CallState.AUTHENTICATING or expected is None:
            return [self.dialog.ack(frame)]
        answer = frame.ies.text(IeType.MD5_RESULT).lower()
        if hmac.compare_digest(answer.encode(), expected.encode()):
            return self._accept_incoming(now)
        reason, cause = "authentication failed", CauseCode.FACILITY_REJECTED
        ies = InformationElements.build((IeType.CAUSE, reason), (IeType.CAUSECODE, cause))
        outputs: list[Output] = [self.dialog.send_iax(IaxSubclass.REJECT, now, ies)]
        self.state = CallState.HANGING_UP
        self.end_reason = CallEnded(self.call_id, reason, cause, remote=False)
        return outputs

    @classmethod
    def rejected(
        cls, local_call: int, new: FullFrame, peer: Address, reason: str, cause: int, now: float
    ) -> tuple[Call, list[Output]]:
        """Answer a NEW with REJECT; the leg lives until the REJECT is acknowledged."""
        call = cls(local_call, peer, now, outgoing=False)
        call.dialog.receive(new, now)
        ies = InformationElements.build((IeType.CAUSE, reason), (IeType.CAUSECODE, cause))
        outputs: list[Output] = [call.dialog.send_iax(IaxSubclass.REJECT, now, ies)]
        call.state = CallState.HANGING_UP
        call.end_reason = CallEnded(local_call, reason, cause, remote=False)
        return call, outputs

    def _send_new(self, now: float, token: bytes | None) -> Transmit:
        request = self._request
        assert request is not None
        pairs: list[tuple[int, IeValue]] = [(IeType.VERSION, IAX_PROTOCOL_VERSION)]
        pairs += [(IeType.CALLED_NUMBER, request.called_number)]
        if request.calling_number:
            pairs.append((IeType.CALLING_NUMBER, request.calling_number))
        if request.calling_name:
            pairs.append((IeType.CALLING_NAME, request.calling_name))
        pairs += [
            (IeType.FORMAT, request.preferred_format),
            (IeType.CAPABILITY, request.capability),
        ]
        if request.username:
            pairs.append((IeType.USERNAME, request.username))
        if request.dnid:
            pairs.append((IeType.DNID, request.dnid))
        if token is not None:
            pairs.append((IeType.CALLTOKEN, token))
        return self.dialog.send_iax(IaxSubclass.NEW, now, InformationElements.build(*pairs))

    # -- application commands ----------------------------------------------------------------

    def answer(self, now: float) -> list[Output]:
        """Answer an incoming call that is ringing."""
        if self.outgoing or self.state not in (CallState.ACCEPTED, CallState.RINGING):
            return []
        self.state = CallState.UP
        assert self.media_format is not None
        return [
            self.dialog.send(FrameType.CONTROL, ControlSubclass.ANSWER, now),
            CallAnswered(self.call_id, self.media_format),
        ]

    def hangup(
        self, now: float, reason: str = "Normal Clearing", cause: int = CauseCode.NORMAL_CLEARING
    ) -> list[Output]:
        """End the call from our side: HANGUP goes out and is retransmitted until ACKed."""
        if self.state in (CallState.HANGING_UP, CallState.ENDED):
            return []
        ies = InformationElements.build((IeType.CAUSE, reason), (IeType.CAUSECODE, cause))
        outputs: list[Output] = [self.dialog.send_iax(IaxSubclass.HANGUP, now, ies)]
        outputs += self._end(reason, cause, remote=False, linger=True)
        return outputs

    def send_audio(self, samples: codecs.Samples, now: float) -> list[Output]:
        """Send one block of audio (normally 160 samples = 20 ms) in the call's format."""
        if self.state is not CallState.UP or self.media_format is None:
            return []
        payload = codecs.encode(self.media_format, samples)
        stamp = self._voice_timestamp(now, len(samples) * 1000 // codecs.SAMPLE_RATE)
        previous = self._tx_voice_timestamp
        self._tx_voice_timestamp = stamp
        wrapped = previous is not None and (stamp >> 16) != (previous >> 16)
        if previous is None or wrapped or self._tx_voice_format != self.media_format:
            self._tx_voice_format = self.media_format
            transmit = self.dialog.send(
                FrameType.VOICE, self.media_format, now, payload=payload, timestamp=stamp
            )
            return [transmit]
        mini = MiniFrame(self.call_id, stamp & 0xFFFF, payload)
        return [Transmit(mini, self.peer)]

    def _voice_timestamp(self, now: float, duration_ms: int) -> int:
        """Voice timestamps advance by the audio's duration while the sender keeps pace.

        A steady 20 ms stream gets exact multiples of 20 even if the daemon's timer jitters;
        a sender that fell far behind or ahead is resynchronised to the call clock.
        """
        elapsed = int((now - self.dialog.start) * 1000)
        previous = self._tx_voice_timestamp
        if previous is None:
            return max(0, elapsed - elapsed % max(duration_ms, 1)) & 0xFFFFFFFF
        predicted = previous + duration_ms
        if abs(elapsed - predicted) > 4 * max(duration_ms, 1):
            predicted = max(elapsed, previous + 1)
        return predicted & 0xFFFFFFFF

    # -- input -----------------------------------------------------------------------------

    def receive_full(self, frame: FullFrame, now: float) -> list[Output]:
        """Handle one full frame addressed to this call."""
        self.last_heard = now
        if frame.is_iax(IaxSubclass.CALLTOKEN):
            return self._on_calltoken(frame, now)
        received = self.dialog.receive(frame, now)
        outputs: list[Output] = list(received.outputs)
        if self.state is CallState.HANGING_UP:
            if self.dialog.unacknowledged == 0:
                self.state = CallState.ENDED
            return outputs
        if not received.deliver or self.state is CallState.ENDED:
            return outputs
        if frame.frame_type == FrameType.IAX:
            outputs += self._on_iax(frame, now)
        elif frame.frame_type == FrameType.CONTROL:
            outputs += self._on_control(frame, now)
        elif frame.frame_type == FrameType.VOICE:
            outputs += self._on_voice(frame.subclass, frame.payload, frame.timestamp, full=True)
        return outputs

    def receive_mini(self, frame: MiniFrame, now: float) -> list[Output]:
        """Handle one mini (voice) frame from this call's peer."""
        self.last_heard = now
        media_format = self._rx_voice_format or self.media_format
        if self.state in (CallState.HANGING_UP, CallState.ENDED) or media_format is None:
            return []
        base = self._rx_voice_timestamp
        stamp = (base & ~0xFFFF) | frame.timestamp
        if stamp + 0x8000 < base:  # the low 16 bits wrapped before the peer's full frame came
            stamp += _MINI_WRAP
        return self._on_voice(media_format, frame.payload, stamp & 0xFFFFFFFF, full=False)

    def _on_voice(
        self, media_format: int, payload: bytes, stamp: int, *, full: bool
    ) -> list[Output]:
        if media_format not in codecs.SUPPORTED_FORMATS:
            return []
        try:
            samples = codecs.decode(media_format, payload)
        except ValueError:
            return []
        self.media_format = self.media_format or media_format
        if full:  # mini frames that follow are in this codec (RFC 5456 8.1.2)
            self._rx_voice_format = media_format
        if full or stamp > self._rx_voice_timestamp:  # a late, reordered mini frame is no reference
            self._rx_voice_timestamp = stamp
        return [AudioReceived(self.call_id, samples, stamp)]

    def _on_calltoken(self, frame: FullFrame, now: float) -> list[Output]:
        token = frame.ies.blob(IeType.CALLTOKEN)
        if self.state is not CallState.DIALLING or not token or self._tokens_tried >= 1:
            return []
        self._tokens_tried += 1
        self.dialog.reset(now)
        return [self._send_new(now, token)]

    def _on_iax(self, frame: FullFrame, now: float) -> list[Output]:
        subclass, ies = frame.subclass, frame.ies
        if subclass == IaxSubclass.AUTHREQ:
            return self._on_authreq(frame, now)
        if subclass == IaxSubclass.ACCEPT:
            return self._on_accept(frame, now)
        if subclass in (IaxSubclass.HANGUP, IaxSubclass.REJECT):
            cause = ies.number(IeType.CAUSECODE, CauseCode.NORMAL_CLEARING) or 0
            default = "the far end hung up" if subclass == IaxSubclass.HANGUP else "call rejected"
            return self._end(ies.text(IeType.CAUSE) or default, cause, remote=True)
        if subclass == IaxSubclass.INVAL:
            reason = "the far end does not know this call"
            return self._end(reason, CauseCode.INVALID_MESSAGE, remote=True)
        if subclass == IaxSubclass.PING:
            return [
                self.dialog.send(FrameType.IAX, IaxSubclass.PONG, now, timestamp=frame.timestamp)
            ]
        if subclass == IaxSubclass.LAGRQ:
            lag = self.dialog.send(FrameType.IAX, IaxSubclass.LAGRP, now, timestamp=frame.timestamp)
            return [lag]
        if subclass in (IaxSubclass.PONG, IaxSubclass.LAGRP):
            elapsed = self.dialog.timestamp(now) - frame.timestamp
            if 0 <= elapsed < 60_000:
                self.dialog.measured_round_trip(elapsed / 1000)
            return []
        if subclass == IaxSubclass.AUTHREP:
            return self._on_authrep(frame, now)
        if subclass in (IaxSubclass.NEW, IaxSubclass.POKE):
            return [self.dialog.ack(frame)]
        if subclass == IaxSubclass.TXREQ:
            # A PBX (Asterisk's transfer=yes) wants media to bypass it. We do not take part in
            # path transfers; TXREJ tells it to keep bridging the audio itself.
            return [self.dialog.send_iax(IaxSubclass.TXREJ, now)]
        if subclass not in _KNOWN_IAX_SUBCLASSES:  # RFC 5456 6.9.5: say we do not know it
            unknown = InformationElements.build((IeType.IAX_UNKNOWN, subclass & 0xFF))
            return [self.dialog.send_iax(IaxSubclass.UNSUPPORT, now, unknown)]
        return []

    def _on_authreq(self, frame: FullFrame, now: float) -> list[Output]:
        request = self._request
        methods = frame.ies.number(IeType.AUTHMETHODS, 0) or 0
        if not self.outgoing or self.state is not CallState.DIALLING or request is None:
            return [self.dialog.ack(frame)]
        if not methods & AuthMethod.MD5 or not request.secret:
            reason = "the far end wants a password we do not have (MD5 secret)"
            return self.hangup(now, reason, CauseCode.FACILITY_REJECTED)
        result = md5_response(frame.ies.text(IeType.CHALLENGE), request.secret)
        ies = InformationElements.build((IeType.MD5_RESULT, result))
        self.state = CallState.AUTHENTICATING
        return [self.dialog.send_iax(IaxSubclass.AUTHREP, now, ies)]

    def _on_accept(self, frame: FullFrame, now: float) -> list[Output]:
        if not self.outgoing or self.state not in (CallState.DIALLING, CallState.AUTHENTICATING):
            return []
        chosen = _format_from(frame.ies)
        if chosen not in codecs.SUPPORTED_FORMATS:
            reason = (
                f"the far end chose a codec we cannot do ({chosen:#x})" if chosen else "no codec"
            )
            return self.hangup(now, reason, CauseCode.BEARERCAPABILITY_NOTAVAIL)
        self.media_format = chosen
        self.state = CallState.ACCEPTED
        return [CallAccepted(self.call_id, chosen)]

    def _on_control(self, frame: FullFrame, now: float) -> list[Output]:
        subclass = frame.subclass
        if subclass == ControlSubclass.RINGING and self.state is CallState.ACCEPTED:
            self.state = CallState.RINGING
            return [CallRinging(self.call_id)]
        if (
            subclass == ControlSubclass.ANSWER
            and self.outgoing
            and self.state
            in (
                CallState.ACCEPTED,
                CallState.RINGING,
            )
        ):
            self.state = CallState.UP
            assert self.media_format is not None
            return [CallAnswered(self.call_id, self.media_format)]
        if subclass == ControlSubclass.BUSY:
            return self.hangup(now, "the line is busy", CauseCode.USER_BUSY)
        if subclass == ControlSubclass.CONGESTION:
            return self.hangup(now, "the network is congested", CauseCode.NORMAL_CIRCUIT_CONGESTION)
        if subclass == ControlSubclass.HANGUP:
            return self._end("the far end hung up", CauseCode.NORMAL_CLEARING, remote=True)
        return []

    # -- time ------------------------------------------------------------------------------

    def tick(self, now: float) -> list[Output]:
        """Retransmit, ping, and end the call if a bound ran out."""
        if self.state is CallState.ENDED:
            return []
        outputs: list[Output] = []
        retransmits, gave_up = self.dialog.tick(now)
        outputs += retransmits
        if self.state is CallState.HANGING_UP:
            if gave_up or self.dialog.unacknowledged == 0:
                self.state = CallState.ENDED
            return outputs
        if gave_up:
            reason = "the far end stopped acknowledging our messages"
            return outputs + self._end(reason, CauseCode.RECOVERY_ON_TIMER_EXPIRE, remote=False)
        if self.state is CallState.UP and now - self.last_heard >= self.timers.peer_silence:
            seconds = round(self.timers.peer_silence)
            reason = f"lost the far end: no audio or acknowledgement for {seconds} s"
            return outputs + self._send_hangup_once(now, reason, CauseCode.TEMPORARY_FAILURE)
        if self.state is not CallState.UP and now - self.started >= self.timers.answer_timeout:
            reason = f"no answer within {round(self.timers.answer_timeout)} s"
            return outputs + self.hangup(now, reason, CauseCode.NO_ANSWER)
        if now >= self._next_ping and self.state in (CallState.RINGING, CallState.UP):
            self._next_ping = now + self.timers.ping_interval
            outputs.append(self.dialog.send_iax(IaxSubclass.PING, now))
        return outputs

    def next_deadline(self) -> float | None:
        """The earliest time `tick` may have something to do (None: only on input)."""
        candidates = []
        retransmit = self.dialog.next_deadline()
        if retransmit is not None:
            candidates.append(retransmit)
        if self.state is CallState.UP:
            candidates.append(self.last_heard + self.timers.peer_silence)
        elif self.state not in (CallState.HANGING_UP, CallState.ENDED):
            candidates.append(self.started + self.timers.answer_timeout)
        if self.state in (CallState.RINGING, CallState.UP):
            candidates.append(self._next_ping)
        return min(candidates, default=None)

    # -- ending ----------------------------------------------------------------------------

    def _send_hangup_once(self, now: float, reason: str, cause: int) -> list[Output]:
        """Tell a peer that seems gone, without waiting for an ACK that will not come."""
        ies = InformationElements.build((IeType.CAUSE, reason), (IeType.CAUSECODE, cause))
        outputs: list[Output] = [self.dialog.send_iax(IaxSubclass.HANGUP, now, ies)]
        return outputs + self._end(reason, cause, remote=False)

    def _end(self, reason: str, cause: int, *, remote: bool, linger: bool = False) -> list[Output]:
        self.state = CallState.HANGING_UP if linger else CallState.ENDED
        if self.end_reason is not None:
            return []
        self.end_reason = CallEnded(self.call_id, reason, int(cause), remote)
        return [self.end_reason]
