"""What the IAX2 state machines hand back: datagrams to send and events for the application.

Every method of an endpoint, call or registration returns a list of `Output`. The daemon sends
each `Transmit` (`bytes(output.frame)` to `output.address`) and reacts to the events.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from faxgate.iax2.frames import FullFrame, MiniFrame

Address = tuple[str, int]


@dataclass(frozen=True)
class Transmit:
    """Send `frame` as one UDP datagram to `address`."""

    frame: FullFrame | MiniFrame
    address: Address

    @property
    def data(self) -> bytes:
        return bytes(self.frame)


@dataclass(frozen=True)
class Event:
    """Base of everything the protocol layer tells the application."""


@dataclass(frozen=True)
class CallEvent(Event):
    """An event about one call; `call_id` is our (local) call number of that call."""

    call_id: int


@dataclass(frozen=True)
class IncomingCall(CallEvent):
    """A peer's NEW passed the policy and was ACCEPTed; the application should `answer()`."""

    peer: Address
    called_number: str
    calling_number: str
    calling_name: str
    dnid: str
    username: str
    media_format: int


@dataclass(frozen=True)
class CallRinging(CallEvent):
    """The far end rings (outgoing calls)."""


@dataclass(frozen=True)
class CallAccepted(CallEvent):
    """The far end ACCEPTed our NEW with this media format (outgoing calls)."""

    media_format: int


@dataclass(frozen=True)
class CallAnswered(CallEvent):
    """The call is up: audio should now flow both ways, 20 ms at a time."""

    media_format: int


@dataclass(frozen=True)
class AudioReceived(CallEvent):
    """Decoded audio from the peer: int16 samples at 8 kHz, with the peer's 32-bit timestamp."""

    samples: npt.NDArray[np.int16] = field(compare=False)
    timestamp: int


@dataclass(frozen=True)
class CallEnded(CallEvent):
    """The call is over, for the plain-words `reason`; `cause_code` is Q.931 (16 = normal).

    `remote` tells whether the peer ended it (HANGUP/REJECT/INVAL) or we did (hangup(),
    timeouts, a peer that went silent).
    """

    reason: str
    cause_code: int
    remote: bool


@dataclass(frozen=True)
class Registered(Event):
    """Our registration with `server` is valid for `refresh` seconds."""

    username: str
    server: Address
    refresh: int
    apparent_address: Address | None


@dataclass(frozen=True)
class RegistrationFailed(Event):
    """A registration attempt failed; the client retries on its own at `retry_at`."""

    username: str
    server: Address
    reason: str
    retry_at: float


@dataclass(frozen=True)
class Unregistered(Event):
    """Our REGREL was acknowledged (or given up on): the server forgot us."""

    username: str
    server: Address


@dataclass(frozen=True)
class PeerRegistered(Event):
    """(Registrar) a peer proved its secret and is reachable at `address` until `expires_at`."""

    username: str
    address: Address
    expires_at: float


@dataclass(frozen=True)
class PeerRegistrationRejected(Event):
    """(Registrar) a peer's REGREQ was refused: unknown name or wrong secret."""

    username: str
    address: Address
    reason: str


@dataclass(frozen=True)
class PeerUnregistered(Event):
    """(Registrar) a peer released its registration or let it expire."""

    username: str
    address: Address


Output = Transmit | Event
