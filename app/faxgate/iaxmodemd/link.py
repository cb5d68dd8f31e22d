"""The adapter between a line and the sans-io IAX2 endpoint of `faxgate.iax2`.

It supplies what the endpoint leaves to its owner: the clock, the admission policy (our access
policy plus "busy"), the registrar's secrets, the codec preference and the identity the line
dials with. Everything else is `faxgate.iax2.endpoint.Endpoint` as it is.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from faxgate.iax2 import codecs
from faxgate.iax2.call import DialRequest
from faxgate.iax2.constants import CauseCode, MediaFormat
from faxgate.iax2.endpoint import Admission, CallNumbers, CallRequest, Endpoint, EndpointConfig
from faxgate.iax2.events import Output
from faxgate.iax2.registration import Registrar, RegistrationClient
from faxgate.iaxmodemd.config import LinesConfig
from faxgate.iaxmodemd.policy import may_register, refusal_reason

if TYPE_CHECKING:
    from faxgate.iaxmodemd.line import Line

logger = logging.getLogger("iaxmodemd")

Address = tuple[str, int]

CODEC_FORMATS: dict[str, MediaFormat] = {
    "slinear": MediaFormat.SLINEAR,
    "ulaw": MediaFormat.ULAW,
    "alaw": MediaFormat.ALAW,
}


def format_preference(codec: str) -> tuple[MediaFormat, ...]:
    """The configured codec first, then the others we support."""
    first = CODEC_FORMATS[codec]
    return (first, *(f for f in codecs.SUPPORTED_FORMATS if f != first))


class TrunkLink:
    """One line's IAX2 endpoint with the line's policy, identity and clock."""

    def __init__(self, line: Line, config: LinesConfig, clock: Callable[[], float]) -> None:
        self._line = line
        self._config = config
        self._clock = clock
        self.peer_name = config.peer_name_of(line.name)
        registrar = self._make_registrar if may_register(config) else None
        self.endpoint = Endpoint(
            policy=self._admit,
            config=EndpointConfig(formats=format_preference(config.codec)),
            registrar=registrar,
        )
        self.registration: RegistrationClient | None = None

    def _make_registrar(self, numbers: CallNumbers) -> Registrar:
        return Registrar(self._secret_for, numbers, min_refresh=10)

    def _secret_for(self, username: str) -> str | None:
        """A peer may register to line i under the line's own peer name, with the secret."""
        return self._config.secret if username == self.peer_name else None

    def _admit(self, request: CallRequest) -> Admission:
        if not self._line.may_call(request.peer):
            reason = refusal_reason(self._config, request.peer)
            logger.warning("line %s: %s", self._line.name, reason)
            return Admission(False, "not allowed to call this line")  # details stay in our log
        if not (self._line.free or self._line.reserved):
            logger.info("line %s: busy, call from %s:%d refused", self._line.name, *request.peer)
            return Admission(False, "the line is busy", CauseCode.USER_BUSY)
        return Admission(True)

    # -- what the line does -----------------------------------------------------------------

    def datagram(self, data: bytes, source: Address) -> list[Output]:
        return self.endpoint.datagram_received(data, source, self._clock())

    def tick(self) -> list[Output]:
        return self.endpoint.tick(self._clock())

    def next_deadline(self) -> float | None:
        return self.endpoint.next_deadline()

    def dial(self, peer: Address, number: str, calling_number: str) -> tuple[int, list[Output]]:
        preferred = format_preference(self._config.codec)[0]
        request = DialRequest(
            peer=peer,
            called_number=number,
            calling_number=calling_number,
            calling_name=self.peer_name,
            username=self.peer_name,
            secret=self._config.secret,
            dnid=number,
            preferred_format=int(preferred),
        )
        return self.endpoint.dial(request, self._clock())

    def answer(self, call_id: int) -> list[Output]:
        return self.endpoint.answer(call_id, self._clock())

    def send_audio(self, call_id: int, samples: codecs.Samples) -> list[Output]:
        return self.endpoint.send_audio(call_id, samples, self._clock())

    def hangup(self, call_id: int, reason: str, busy: bool = False) -> list[Output]:
        cause = CauseCode.USER_BUSY if busy else CauseCode.NORMAL_CLEARING
        return self.endpoint.hangup(call_id, self._clock(), reason, cause)

    def register(self, server: Address) -> list[Output]:
        self.registration, outputs = self.endpoint.register(
            self.peer_name, self._config.secret, server, self._clock(), self._config.refresh
        )
        return outputs

    def shutdown(self) -> list[Output]:
        return self.endpoint.shutdown(self._clock())

    def idle(self) -> bool:
        return self.endpoint.idle
