"""IAX2 (RFC 5456) without I/O: frames, information elements, codecs and state machines.

The daemon (`faxgate.iaxmodemd`) owns sockets and clocks and drives an `Endpoint`; see
docs/iax2.md. Nothing in this package imports asyncio or reads the time.
"""

from faxgate.iax2.call import Call, CallState, CallTimers, DialRequest
from faxgate.iax2.endpoint import (
    Admission,
    CallRequest,
    Endpoint,
    EndpointConfig,
    accept_all,
    admit_only_from,
)
from faxgate.iax2.events import (
    Address,
    AudioReceived,
    CallAccepted,
    CallAnswered,
    CallEnded,
    CallRinging,
    Event,
    IncomingCall,
    Output,
    PeerRegistered,
    PeerRegistrationRejected,
    PeerUnregistered,
    Registered,
    RegistrationFailed,
    Transmit,
    Unregistered,
)
from faxgate.iax2.frames import FullFrame, MiniFrame, parse_frame
from faxgate.iax2.registration import Registrar, RegistrationClient

__all__ = [
    "Address",
    "Admission",
    "AudioReceived",
    "Call",
    "CallAccepted",
    "CallAnswered",
    "CallEnded",
    "CallRequest",
    "CallRinging",
    "CallState",
    "CallTimers",
    "DialRequest",
    "Endpoint",
    "EndpointConfig",
    "Event",
    "FullFrame",
    "IncomingCall",
    "MiniFrame",
    "Output",
    "PeerRegistered",
    "PeerRegistrationRejected",
    "PeerUnregistered",
    "Registered",
    "Registrar",
    "RegistrationClient",
    "RegistrationFailed",
    "Transmit",
    "Unregistered",
    "accept_all",
    "admit_only_from",
    "parse_frame",
]
