"""IAX2 registration, both sides, without I/O (RFC 5456 6.1).

`RegistrationClient` keeps one line registered with a server: REGREQ → REGAUTH (MD5 challenge)
→ REGREQ with MD5_RESULT → REGACK/REGREJ, renews 5 s before the granted refresh runs out,
retries with a growing pause after a failure, and sends REGREL on `release`.

`Registrar` is the server side for `register` mode, where a real iaxmodem registers with us: it
challenges every REGREQ, checks MD5(challenge + secret), answers REGACK (with REFRESH and
APPARENT_ADDR) or REGREJ, and keeps a table of registered peers that expire.

Each exchange is a short `Dialog` on its own call number, taken from a `CallNumbers` table
(see `endpoint.py`) so that the endpoint can route the answers.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from faxgate.iax2.call import md5_response
from faxgate.iax2.constants import (
    DEFAULT_REFRESH_SECONDS,
    AuthMethod,
    CauseCode,
    IaxSubclass,
    IeType,
)
from faxgate.iax2.events import (
    Address,
    Output,
    PeerRegistered,
    PeerRegistrationRejected,
    PeerUnregistered,
    Registered,
    RegistrationFailed,
    Unregistered,
)
from faxgate.iax2.frames import FullFrame
from faxgate.iax2.ies import ApparentAddress, IeValue, InformationElements, encode_datetime
from faxgate.iax2.sequencing import Dialog, RetransmitPolicy

RENEW_BEFORE_EXPIRY = 5.0


class CallNumberSource(Protocol):
    """Where exchanges get their call numbers from (the endpoint's table)."""

    def allocate(self, owner: object) -> int: ...

    def release(self, number: int) -> None: ...


class RegistrationState(Enum):
    IDLE = "idle"
    REQUESTING = "requesting"
    REGISTERED = "registered"
    WAITING_RETRY = "waiting to retry"
    RELEASING = "releasing"
    RELEASED = "released"


@dataclass(frozen=True)
class RetryBackoff:
    """Pause after a failed registration: `first`, doubling up to `longest` (seconds)."""

    first: float = 10.0
    longest: float = 300.0

    def after(self, failures: int) -> float:
        return float(min(self.longest, self.first * 2 ** max(0, failures - 1)))


class RegistrationClient:
    """Keeps `username` registered with `server`; drive it with start/receive/tick/release."""

    def __init__(
        self,
        username: str,
        secret: str,
        server: Address,
        numbers: CallNumberSource,
        *,
        refresh: int = DEFAULT_REFRESH_SECONDS,
        backoff: RetryBackoff | None = None,
        policy: RetransmitPolicy | None = None,
        offer_calltoken: bool = True,
    ) -> None:
        self.username = username
        self.offer_calltoken = offer_calltoken
        self.secret = secret
        self.server = server
        self.refresh = refresh
        self.backoff = backoff or RetryBackoff()
        self.policy = policy
        self.state = RegistrationState.IDLE
        self.failures = 0
        self.next_action: float | None = None
        self.granted_refresh: int | None = None
        self.apparent_address: Address | None = None
        self._numbers = numbers
        self._dialog: Dialog | None = None
        self._answered_challenge = False
        self._token: bytes | None = None  # the server's call token for this exchange

    @property
    def call_number(self) -> int | None:
        """The call number of the exchange under way, if any."""
        return self._dialog.local_call if self._dialog else None

    def start(self, now: float) -> list[Output]:
        """Register now (again)."""
        return self._begin(IaxSubclass.REGREQ, now, RegistrationState.REQUESTING)

    def release(self, now: float) -> list[Output]:
        """Unregister (on shutdown): REGREL, answered challenge if asked."""
        if self.state in (RegistrationState.RELEASING, RegistrationState.RELEASED):
            return []
        if self.state is not RegistrationState.REGISTERED:
            self._finish_exchange()
            self.state = RegistrationState.RELEASED
            return [Unregistered(self.username, self.server)]
        return self._begin(IaxSubclass.REGREL, now, RegistrationState.RELEASING)

    def _begin(self, subclass: IaxSubclass, now: float, state: RegistrationState) -> list[Output]:
        self._finish_exchange()
        dialog = Dialog(0, self.server, now, policy=self.policy)
        dialog.local_call = self._numbers.allocate(self)
        self._dialog = dialog
        self._answered_challenge = False
        self._token = None
        self.state = state
        self.next_action = None
        return [dialog.send_iax(subclass, now, self._request_ies(subclass, None))]

    def _request_ies(self, subclass: IaxSubclass, md5: str | None) -> InformationElements:
        pairs: list[tuple[int, IeValue]] = [(IeType.USERNAME, self.username)]
        if md5 is not None:
            pairs.append((IeType.MD5_RESULT, md5))
        if subclass == IaxSubclass.REGREQ:
            pairs.append((IeType.REFRESH, self.refresh))
        if (
            self.offer_calltoken
        ):  # Asterisk answers a REGREQ without one with CALLTOKEN or not at all
            pairs.append((IeType.CALLTOKEN, self._token or b""))
        return InformationElements.build(*pairs)

    def _finish_exchange(self) -> None:
        if self._dialog is not None:
            self._numbers.release(self._dialog.local_call)
            self._dialog = None

    def receive(self, frame: FullFrame, now: float) -> list[Output]:
        """Handle a full frame addressed to our exchange's call number."""
        dialog = self._dialog
        if dialog is None:
            return []
        if frame.is_iax(IaxSubclass.CALLTOKEN):
            return self._on_calltoken(frame, now)
        received = dialog.receive(frame, now)
        outputs: list[Output] = list(received.outputs)
        if not received.deliver:
            return outputs
        if frame.is_iax(IaxSubclass.REGAUTH):
            outputs += self._on_regauth(frame, now)
        elif frame.is_iax(IaxSubclass.REGACK):
            outputs += self._on_regack(frame, now)
        elif frame.is_iax(IaxSubclass.REGREJ, IaxSubclass.INVAL):
            cause = frame.ies.text(IeType.CAUSE)
            reason = "the server refused the registration" + (f" ({cause})" if cause else "")
            outputs += self._failed(reason, now)
        return outputs

    def _current_request(self) -> IaxSubclass:
        if self.state is RegistrationState.RELEASING:
            return IaxSubclass.REGREL
        return IaxSubclass.REGREQ

    def _on_calltoken(self, frame: FullFrame, now: float) -> list[Output]:
        """The server wants its call token back: start the exchange over, once, with it."""
        token = frame.ies.blob(IeType.CALLTOKEN)
        if self._dialog is None or not token or self._token is not None:
            return []
        self._token = token
        self._dialog.reset(now)
        subclass = self._current_request()
        return [self._dialog.send_iax(subclass, now, self._request_ies(subclass, None))]

    def _on_regauth(self, frame: FullFrame, now: float) -> list[Output]:
        assert self._dialog is not None
        methods = frame.ies.number(IeType.AUTHMETHODS, 0) or 0
        if self._answered_challenge:
            return self._failed("the server refused our secret", now)
        if not methods & AuthMethod.MD5:
            return self._failed("the server wants an authentication other than MD5", now)
        self._answered_challenge = True
        subclass = self._current_request()
        md5 = md5_response(frame.ies.text(IeType.CHALLENGE), self.secret)
        return [self._dialog.send_iax(subclass, now, self._request_ies(subclass, md5))]

    def _on_regack(self, frame: FullFrame, now: float) -> list[Output]:
        self._finish_exchange()
        if self.state is RegistrationState.RELEASING:
            self.state = RegistrationState.RELEASED
            return [Unregistered(self.username, self.server)]
        refresh = (
            frame.ies.number(IeType.REFRESH, DEFAULT_REFRESH_SECONDS) or DEFAULT_REFRESH_SECONDS
        )
        apparent = frame.ies.get(IeType.APPARENT_ADDR)
        self.apparent_address = (
            (apparent.host, apparent.port) if isinstance(apparent, ApparentAddress) else None
        )
        self.state = RegistrationState.REGISTERED
        self.granted_refresh = refresh
        self.failures = 0
        self.next_action = now + max(refresh / 2, refresh - RENEW_BEFORE_EXPIRY)
        return [Registered(self.username, self.server, refresh, self.apparent_address)]

    def _failed(self, reason: str, now: float) -> list[Output]:
        self._finish_exchange()
        if self.state is RegistrationState.RELEASING:
            self.state = RegistrationState.RELEASED
            return [Unregistered(self.username, self.server)]
        self.failures += 1
        self.state = RegistrationState.WAITING_RETRY
        self.next_action = now + self.backoff.after(self.failures)
        return [RegistrationFailed(self.username, self.server, reason, self.next_action)]

    def tick(self, now: float) -> list[Output]:
        """Retransmit, time out, renew or retry as due."""
        if self._dialog is not None:
            outputs: list[Output] = []
            retransmits, gave_up = self._dialog.tick(now)
            outputs += retransmits
            if gave_up:
                outputs += self._failed(f"no answer from the server {self.server[0]}", now)
            return outputs
        due = self.next_action is not None and now >= self.next_action
        if due and self.state in (RegistrationState.REGISTERED, RegistrationState.WAITING_RETRY):
            return self.start(now)
        return []

    def next_deadline(self) -> float | None:
        if self._dialog is not None:
            return self._dialog.next_deadline()
        return self.next_action


@dataclass(frozen=True)
class PeerEntry:
    """A registered peer in the registrar's table."""

    username: str
    address: Address
    expires_at: float


class _Exchange:
    """One registrar-side REGREQ/REGREL exchange on its own call number."""

    def __init__(self, dialog: Dialog, username: str, challenge: str) -> None:
        self.dialog = dialog
        self.username = username
        self.challenge = challenge
        self.done = False


SecretLookup = Callable[[str], str | None]


class Registrar:
    """The server side of registration, with a table of registered peers."""

    def __init__(
        self,
        secret_for: SecretLookup,
        numbers: CallNumberSource,
        *,
        challenge_factory: Callable[[], str] | None = None,
        min_refresh: int = 60,
        max_refresh: int = 3600,
        policy: RetransmitPolicy | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self._secret_for = secret_for
        self._numbers = numbers
        self._challenge_factory = challenge_factory or (lambda: str(secrets.randbelow(10**9)))
        self.min_refresh = min_refresh
        self.max_refresh = max_refresh
        self.policy = policy
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._exchanges: dict[int, _Exchange] = {}
        self._peers: dict[str, PeerEntry] = {}

    def lookup(self, username: str, now: float) -> Address | None:
        """Where a registered peer can be reached, or None if it is not (or no longer) here."""
        entry = self._peers.get(username)
        return entry.address if entry and entry.expires_at > now else None

    def peers(self, now: float) -> list[PeerEntry]:
        return [entry for entry in self._peers.values() if entry.expires_at > now]

    def owns(self, number: int) -> bool:
        return number in self._exchanges

    def receive_new(self, frame: FullFrame, address: Address, now: float) -> list[Output]:
        """A REGREQ or REGREL with destination call 0: start an exchange and challenge it."""
        username = frame.ies.text(IeType.USERNAME)
        dialog = Dialog(0, address, now, policy=self.policy)
        dialog.local_call = self._numbers.allocate(self)
        exchange = _Exchange(dialog, username, self._challenge_factory())
        self._exchanges[dialog.local_call] = exchange
        dialog.receive(frame, now)
        if self._secret_for(username) is None:
            return self._reject(exchange, now, f"no peer called {username!r}")
        entry = self._peers.get(username)
        if frame.is_iax(IaxSubclass.REGREL) and entry and entry.address == address:
            # iaxmodem releases on exit without answering a challenge; coming from the address
            # that registered is the proof we accept for forgetting it.
            return self._release(exchange, now)
        ies = InformationElements.build(
            (IeType.AUTHMETHODS, int(AuthMethod.MD5)),
            (IeType.CHALLENGE, exchange.challenge),
            (IeType.USERNAME, username),
        )
        return [dialog.send_iax(IaxSubclass.REGAUTH, now, ies)]

    def receive(self, frame: FullFrame, now: float) -> list[Output]:
        """A frame for one of our exchanges (the endpoint checked the call number)."""
        exchange = self._exchanges.get(frame.destination_call)
        if exchange is None:
            return []
        if exchange.done:  # only the peer's ACK of our REGACK/REGREJ is still expected
            acks: list[Output] = list(exchange.dialog.receive(frame, now).outputs)
            if exchange.dialog.unacknowledged == 0:
                self._close(frame.destination_call)
            return acks
        received = exchange.dialog.receive(frame, now)
        outputs: list[Output] = list(received.outputs)
        if not received.deliver or not frame.is_iax(IaxSubclass.REGREQ, IaxSubclass.REGREL):
            return outputs
        secret = self._secret_for(exchange.username) or ""
        answer = frame.ies.text(IeType.MD5_RESULT)
        expected = md5_response(exchange.challenge, secret)
        if not answer or not hmac.compare_digest(answer.lower(), expected):
            return outputs + self._reject(exchange, now, "wrong secret")
        if frame.is_iax(IaxSubclass.REGREL):
            return outputs + self._release(exchange, now)
        requested = frame.ies.number(IeType.REFRESH, DEFAULT_REFRESH_SECONDS) or 0
        refresh = min(self.max_refresh, max(self.min_refresh, requested))
        address = exchange.dialog.peer
        entry = PeerEntry(exchange.username, address, now + refresh)
        self._peers[exchange.username] = entry
        ies = InformationElements.build(
            (IeType.USERNAME, exchange.username),
            (IeType.DATETIME, encode_datetime(self._clock())),
            (IeType.APPARENT_ADDR, ApparentAddress.for_address(*address)),
            (IeType.REFRESH, refresh),
        )
        outputs.append(exchange.dialog.send_iax(IaxSubclass.REGACK, now, ies))
        exchange.done = True
        outputs.append(PeerRegistered(exchange.username, address, entry.expires_at))
        return outputs

    def _reject(self, exchange: _Exchange, now: float, reason: str) -> list[Output]:
        ies = InformationElements.build(
            (IeType.CAUSE, "Registration Refused"),
            (IeType.CAUSECODE, int(CauseCode.FACILITY_REJECTED)),
        )
        exchange.done = True
        address = exchange.dialog.peer
        return [
            exchange.dialog.send_iax(IaxSubclass.REGREJ, now, ies),
            PeerRegistrationRejected(exchange.username, address, reason),
        ]

    def _release(self, exchange: _Exchange, now: float) -> list[Output]:
        self._peers.pop(exchange.username, None)
        exchange.done = True
        ies = InformationElements.build((IeType.USERNAME, exchange.username))
        address = exchange.dialog.peer
        return [
            exchange.dialog.send_iax(IaxSubclass.REGACK, now, ies),
            PeerUnregistered(exchange.username, address),
        ]

    def _close(self, number: int) -> None:
        del self._exchanges[number]
        self._numbers.release(number)

    def tick(self, now: float) -> list[Output]:
        """Retransmit exchanges, close finished ones, expire peers."""
        outputs: list[Output] = []
        for number, exchange in list(self._exchanges.items()):
            retransmits, gave_up = exchange.dialog.tick(now)
            outputs += retransmits
            finished = exchange.done and exchange.dialog.unacknowledged == 0
            if gave_up or finished:
                self._close(number)
        for username, entry in list(self._peers.items()):
            if entry.expires_at <= now:
                del self._peers[username]
                outputs.append(PeerUnregistered(username, entry.address))
        return outputs

    def next_deadline(self) -> float | None:
        candidates = [entry.expires_at for entry in self._peers.values()]
        for exchange in self._exchanges.values():
            deadline = exchange.dialog.next_deadline()
            if deadline is not None:
                candidates.append(deadline)
        return min(candidates, default=None)
