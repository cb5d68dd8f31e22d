"""One IAX2 endpoint (one UDP port): routes datagrams to calls and registrations.

The daemon owns the socket and the clock; for every datagram it calls
`endpoint.datagram_received(data, address, now)`, on a timer `endpoint.tick(now)` (at the
latest at `endpoint.next_deadline()`), and for its own decisions `dial`, `answer`, `send_audio`,
`hangup`, `register`, `shutdown`. Each returns a list of outputs: `Transmit` datagrams to send and
`Event`s (see `events.py`). Nothing here raises on bad input: a malformed or unexpected datagram
is counted in `stats` and dropped; frames for calls we do not know get INVAL (RFC 5456 6.9.2).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import secrets
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from faxgate.iax2 import codecs
from faxgate.iax2.call import Call, CallTimers, DialRequest
from faxgate.iax2.constants import (
    MAX_CALL_NUMBER,
    NON_SEQUENCED_SUBCLASSES,
    CauseCode,
    FrameType,
    IaxSubclass,
    IeType,
    MediaFormat,
)
from faxgate.iax2.events import Address, IncomingCall, Output, Transmit
from faxgate.iax2.frames import FullFrame, MiniFrame, parse_frame
from faxgate.iax2.ies import InformationElements, VersionedValue
from faxgate.iax2.registration import Registrar, RegistrationClient, RetryBackoff
from faxgate.iax2.sequencing import RetransmitPolicy

_log = logging.getLogger("faxgate.iax2")

CALLTOKEN_LIFETIME = 10.0  # seconds a call token we issued stays valid


class CallNumbers:
    """Allocates our 15-bit call numbers (1..32767) and remembers who owns each.

    Numbers are handed out round-robin from a random start, so a number just freed is not
    reused until all others were: late frames of a finished call cannot reach a new one.
    """

    def __init__(self, rng: random.Random | None = None) -> None:
        self._owners: dict[int, object] = {}
        self._next = (rng or random.Random()).randint(1, MAX_CALL_NUMBER)

    def allocate(self, owner: object) -> int:
        if len(self._owners) >= MAX_CALL_NUMBER:
            raise RuntimeError("all 32767 IAX2 call numbers are in use")
        while self._next in self._owners:
            self._next = self._next % MAX_CALL_NUMBER + 1
        number = self._next
        self._owners[number] = owner
        self._next = number % MAX_CALL_NUMBER + 1
        return number

    def assign(self, number: int, owner: object) -> None:
        """Hand an allocated number to the object created for it."""
        self._owners[number] = owner

    def release(self, number: int) -> None:
        self._owners.pop(number, None)

    def owner(self, number: int) -> object | None:
        return self._owners.get(number)

    def __len__(self) -> int:
        return len(self._owners)


@dataclass(frozen=True)
class CallRequest:
    """An incoming NEW as the admission policy sees it."""

    peer: Address
    called_number: str
    calling_number: str
    calling_name: str
    dnid: str
    username: str
    capability: int
    requested_format: int | None


@dataclass(frozen=True)
class Admission:
    """The policy's answer to a `CallRequest`."""

    accept: bool
    reason: str = ""
    cause_code: int = CauseCode.CALL_REJECTED
    secret: str | None = None  # if set, the caller must prove it with MD5 before ACCEPT


def accept_all(request: CallRequest) -> Admission:
    """The default policy: every NEW may come in (use a real one outside tests)."""
    return Admission(True)


def admit_only_from(
    hosts: Iterable[str], secret: str | None = None
) -> Callable[[CallRequest], Admission]:
    """A policy for the trunk modes: calls only from these IP addresses (the server or peer).

    With `secret`, an admitted caller must also answer an MD5 challenge with it.
    """
    allowed = frozenset(hosts)

    def policy(request: CallRequest) -> Admission:
        if request.peer[0] not in allowed:
            return Admission(False, f"calls from {request.peer[0]} are not accepted")
        return Admission(True, secret=secret)

    return policy


@dataclass(frozen=True)
class EndpointConfig:
    """Behaviour knobs of an endpoint."""

    formats: tuple[MediaFormat, ...] = codecs.SUPPORTED_FORMATS
    require_calltoken: bool = False
    timers: CallTimers = field(default_factory=CallTimers)
    retransmit: RetransmitPolicy = field(default_factory=RetransmitPolicy)
    registration_backoff: RetryBackoff = field(default_factory=RetryBackoff)


class Endpoint:
    """All calls and registrations behind one UDP port."""

    def __init__(
        self,
        *,
        policy: Callable[[CallRequest], Admission] = accept_all,
        config: EndpointConfig | None = None,
        registrar: Callable[[CallNumbers], Registrar] | None = None,
        rng: random.Random | None = None,
        token_key: bytes | None = None,
        challenge_factory: Callable[[], str] | None = None,
    ) -> None:
        self.config = config or EndpointConfig()
        self.numbers = CallNumbers(rng)
        self.policy = policy
        self.registrar = registrar(self.numbers) if registrar else None
        self.calls: dict[int, Call] = {}
        self.registrations: list[RegistrationClient] = []
        self.stats: Counter[str] = Counter()
        self._by_remote: dict[tuple[Address, int], int] = {}
        self._token_key = token_key or secrets.token_bytes(16)
        self._challenge_factory = challenge_factory or (lambda: str(secrets.randbelow(10**9)))

    # -- input -----------------------------------------------------------------------------

    def datagram_received(self, data: bytes, address: Address, now: float) -> list[Output]:
        """Handle one UDP datagram; never raises for anything the peer sent."""
        try:
            return self._datagram(data, address, now)
        except Exception:  # one datagram must never take a line down; the bug is logged
            self.stats["internal_error"] += 1
            _log.exception("IAX2 datagram from %s:%s could not be handled", *address[:2])
            return []

    def _datagram(self, data: bytes, address: Address, now: float) -> list[Output]:
        try:
            frame = parse_frame(data)
        except ValueError:
            self.stats["malformed"] += 1
            return []
        self.stats["received"] += 1
        if isinstance(frame, FullFrame):
            return self._full(frame, address, now)
        if isinstance(frame, MiniFrame):
            call = self._call_from(address, frame.source_call)
            if call is None:
                self.stats["unknown_call"] += 1
                return []
            return self._collect(call, call.receive_mini(frame, now))
        self.stats["unsupported_meta"] += 1  # we never negotiate trunking or video
        return []

    def _full(self, frame: FullFrame, address: Address, now: float) -> list[Output]:
        if frame.destination_call == 0:
            return self._unaddressed(frame, address, now)
        owner = self.numbers.owner(frame.destination_call)
        if isinstance(owner, Call) and owner.peer == address:
            self._by_remote.setdefault((address, frame.source_call), owner.call_id)
            return self._collect(owner, owner.receive_full(frame, now))
        if isinstance(owner, RegistrationClient) and owner.server == address:
            return owner.receive(frame, now)
        if isinstance(owner, Registrar):
            return owner.receive(frame, now)
        self.stats["unknown_call"] += 1
        return self._inval(frame, address)

    def _unaddressed(self, frame: FullFrame, address: Address, now: float) -> list[Output]:
        if frame.is_iax(IaxSubclass.NEW):
            known = self._call_from(address, frame.source_call)
            if known is not None:  # a retransmitted NEW: the call's dialog re-ACKs it
                return self._collect(known, known.receive_full(frame, now))
            return self._new_call(frame, address, now)
        if frame.is_iax(IaxSubclass.REGREQ, IaxSubclass.REGREL):
            if self.registrar is None:
                self.stats["registration_not_served"] += 1
                return self._inval(frame, address)
            return self.registrar.receive_new(frame, address, now)
        if frame.is_iax(IaxSubclass.POKE):
            pong = FullFrame(
                0, frame.source_call, frame.timestamp, 0, 1, FrameType.IAX, IaxSubclass.PONG
            )
            return [Transmit(pong, address)]
        self.stats["unaddressed"] += 1
        return []

    def _inval(self, frame: FullFrame, address: Address) -> list[Output]:
        """INVAL for a frame of a call we do not have, unless that could start a ping-pong."""
        if frame.frame_type == FrameType.IAX and frame.subclass in NON_SEQUENCED_SUBCLASSES:
            return []
        inval = FullFrame(
            source_call=frame.destination_call,
            destination_call=frame.source_call,
            timestamp=frame.timestamp,
            oseqno=frame.iseqno,
            iseqno=(frame.oseqno + 1) & 0xFF,
            frame_type=FrameType.IAX,
            subclass=IaxSubclass.INVAL,
        )
        self.stats["inval_sent"] += 1
        return [Transmit(inval, address)]

    def _new_call(self, frame: FullFrame, address: Address, now: float) -> list[Output]:
        ies = frame.ies
        if self.config.require_calltoken:
            token_reply = self._check_calltoken(frame, address, now)
            if token_reply is not None:
                return token_reply
        request = CallRequest(
            peer=address,
            called_number=ies.text(IeType.CALLED_NUMBER),
            calling_number=ies.text(IeType.CALLING_NUMBER),
            calling_name=ies.text(IeType.CALLING_NAME),
            dnid=ies.text(IeType.DNID),
            username=ies.text(IeType.USERNAME),
            capability=_wide_or_narrow(ies, IeType.CAPABILITY2, IeType.CAPABILITY) or 0,
            requested_format=_wide_or_narrow(ies, IeType.FORMAT2, IeType.FORMAT),
        )
        try:
            admission = self.policy(request)
        except Exception:  # a broken policy must not take the endpoint down: refuse the call
            self.stats["policy_error"] += 1
            admission = Admission(False, "local policy error", CauseCode.TEMPORARY_FAILURE)
        media_format = codecs.negotiate(
            request.capability, request.requested_format, self.config.formats
        )
        number = self.numbers.allocate(None)
        if not admission.accept or media_format is None:
            reason = admission.reason or "call rejected"
            cause = admission.cause_code
            if admission.accept:
                reason, cause = "no common codec", CauseCode.BEARERCAPABILITY_NOTAVAIL
            call, outputs = Call.rejected(number, frame, address, reason, cause, now)
            self.stats["rejected"] += 1
        else:
            call, outputs = Call.incoming(
                number, frame, address, int(media_format), now,
                announce=_incoming_event(number, request, int(media_format)),
                challenge=self._challenge_factory(), secret=admission.secret,
                timers=self.config.timers, policy=self.config.retransmit,
            )  # fmt: skip
        self.numbers.assign(number, call)
        self.calls[number] = call
        self._by_remote[(address, frame.source_call)] = number
        return outputs

    def _check_calltoken(
        self, frame: FullFrame, address: Address, now: float
    ) -> list[Output] | None:
        """None when the NEW carries a valid token; otherwise the answer to send instead."""
        token = frame.ies.blob(IeType.CALLTOKEN)
        if token is None:
            call_number = self.numbers.allocate(None)
            call, outputs = Call.rejected(
                call_number, frame, address, "call token required", CauseCode.CALL_REJECTED, now
            )
            self.numbers.assign(call_number, call)
            self.calls[call_number] = call
            return outputs
        if token and self._token_valid(token, address, now):
            return None
        fresh = self._make_token(address, int(now)).encode()
        ies = InformationElements.build((IeType.CALLTOKEN, fresh))
        reply = FullFrame(
            0,
            frame.source_call,
            frame.timestamp,
            0,
            1,
            FrameType.IAX,
            IaxSubclass.CALLTOKEN,
            ies=ies,
        )
        return [Transmit(reply, address)]

    def _make_token(self, address: Address, issued: int) -> str:
        text = f"{address[0]}:{address[1]}:{issued}".encode()
        digest = hmac.new(self._token_key, text, hashlib.sha1).hexdigest()
        return f"{issued}?{digest}"

    def _token_valid(self, token: bytes, address: Address, now: float) -> bool:
        try:
            issued = int(token.split(b"?", 1)[0])
        except ValueError:
            return False
        if not 0 <= now - issued <= CALLTOKEN_LIFETIME:
            return False
        return hmac.compare_digest(token, self._make_token(address, issued).encode())

    # -- application commands ----------------------------------------------------------------

    def dial(self, request: DialRequest, now: float) -> tuple[int, list[Output]]:
        """Start an outgoing call; returns its call id (our call number) and the NEW to send."""
        number = self.numbers.allocate(None)
        call, outputs = Call.dial(
            number, request, now, timers=self.config.timers, policy=self.config.retransmit
        )
        self.numbers.assign(number, call)
        self.calls[number] = call
        return number, outputs

    def answer(self, call_id: int, now: float) -> list[Output]:
        call = self.calls.get(call_id)
        return self._collect(call, call.answer(now)) if call else []

    def send_audio(self, call_id: int, samples: codecs.Samples, now: float) -> list[Output]:
        call = self.calls.get(call_id)
        return call.send_audio(samples, now) if call else []

    def hangup(
        self,
        call_id: int,
        now: float,
        reason: str = "Normal Clearing",
        cause: int = CauseCode.NORMAL_CLEARING,
    ) -> list[Output]:
        call = self.calls.get(call_id)
        return self._collect(call, call.hangup(now, reason, cause)) if call else []

    def register(
        self, username: str, secret: str, server: Address, now: float, refresh: int = 60
    ) -> tuple[RegistrationClient, list[Output]]:
        """Keep `username` registered with `server` from now on."""
        client = RegistrationClient(
            username, secret, server, self.numbers, refresh=refresh,
            backoff=self.config.registration_backoff, policy=self.config.retransmit,
        )  # fmt: skip
        self.registrations.append(client)
        return client, client.start(now)

    def shutdown(self, now: float) -> list[Output]:
        """Hang up every call and release every registration (keep ticking until `idle`)."""
        outputs: list[Output] = []
        for call_id in list(self.calls):
            outputs += self.hangup(call_id, now, "Shutting down", CauseCode.NORMAL_CLEARING)
        for client in self.registrations:
            outputs += client.release(now)
        return outputs

    @property
    def idle(self) -> bool:
        """No call and no registration exchange is still waiting for anything."""
        return not self.calls and all(c.call_number is None for c in self.registrations)

    # -- time ------------------------------------------------------------------------------

    def tick(self, now: float) -> list[Output]:
        """Do everything that is due at `now`."""
        outputs: list[Output] = []
        for call in list(self.calls.values()):
            outputs += self._collect(call, call.tick(now))
        for client in self.registrations:
            outputs += client.tick(now)
        if self.registrar is not None:
            outputs += self.registrar.tick(now)
        return outputs

    def next_deadline(self) -> float | None:
        """When `tick` should next be called (None: only when a datagram arrives)."""
        candidates = [call.next_deadline() for call in self.calls.values()]
        candidates += [client.next_deadline() for client in self.registrations]
        if self.registrar is not None:
            candidates.append(self.registrar.next_deadline())
        return min((c for c in candidates if c is not None), default=None)

    # -- helpers ---------------------------------------------------------------------------

    def _call_from(self, address: Address, remote_call: int) -> Call | None:
        number = self._by_remote.get((address, remote_call))
        return self.calls.get(number) if number is not None else None

    def _collect(self, call: Call, outputs: list[Output]) -> list[Output]:
        """Pass outputs through, forgetting the call once it is finished."""
        if call.finished and self.calls.get(call.call_id) is call:
            del self.calls[call.call_id]
            self.numbers.release(call.call_id)
            for key in [k for k, v in self._by_remote.items() if v == call.call_id]:
                del self._by_remote[key]
        return outputs


def _wide_or_narrow(ies: InformationElements, wide: IeType, narrow: IeType) -> int | None:
    """Newer Asterisk sends 64-bit CAPABILITY2/FORMAT2 (same bit positions); older peers 32-bit."""
    value = ies.get(wide)
    if isinstance(value, VersionedValue):
        return value.value
    return ies.number(narrow)


def _incoming_event(call_id: int, request: CallRequest, media_format: int) -> IncomingCall:
    return IncomingCall(
        call_id=call_id,
        peer=request.peer,
        called_number=request.called_number,
        calling_number=request.calling_number,
        calling_name=request.calling_name,
        dnid=request.dnid,
        username=request.username,
        media_format=media_format,
    )
