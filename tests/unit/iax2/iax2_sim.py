"""A simulated UDP network for IAX2 endpoints: simulated time, latency, seeded packet loss.

Endpoints exchange real encoded datagrams (`bytes(frame)` in, `datagram_received` out), so the
codec is exercised on every hop; only the socket and the clock are fake.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from faxgate.iax2.endpoint import Endpoint
from faxgate.iax2.events import Address, Event, Output, Transmit


@dataclass(order=True)
class _InFlight:
    deliver_at: float
    order: int
    data: bytes = field(compare=False)
    source: Address = field(compare=False)
    destination: Address = field(compare=False)


class Network:
    """Carries datagrams between endpoints; `loss` is the chance each datagram is dropped."""

    def __init__(
        self, *, loss: float = 0.0, latency: float = 0.005, jitter: float = 0.0, seed: int = 1
    ) -> None:
        self.loss = loss
        self.latency = latency
        self.jitter = jitter  # extra random delay up to this much: datagrams get reordered
        self.rng = random.Random(seed)
        self.endpoints: dict[Address, Endpoint] = {}
        self.events: dict[Address, list[Event]] = {}
        self.handlers: dict[Address, Callable[[Event, float], list[Output]]] = {}
        self.sent: list[tuple[Address, bytes]] = []
        self.timeline: list[tuple[float, Address, Event]] = []
        self.dropped = 0
        self.now = 0.0
        self._queue: list[_InFlight] = []
        self._order = 0

    def attach(
        self,
        address: Address,
        endpoint: Endpoint,
        handler: Callable[[Event, float], list[Output]] | None = None,
    ) -> Endpoint:
        self.endpoints[address] = endpoint
        self.events[address] = []
        if handler is not None:
            self.handlers[address] = handler
        return endpoint

    def emit(self, source: Address, outputs: list[Output]) -> None:
        """Put an endpoint's outputs on the wire / into its event log (and its handler)."""
        for output in outputs:
            if isinstance(output, Transmit):
                data = output.data
                self.sent.append((source, data))
                if self.rng.random() < self.loss:
                    self.dropped += 1
                    continue
                self._order += 1
                heapq.heappush(
                    self._queue,
                    _InFlight(
                        self.now + self.latency + self.rng.uniform(0, self.jitter),
                        self._order,
                        data,
                        source,
                        output.address,
                    ),
                )
            else:
                self.events[source].append(output)
                self.timeline.append((self.now, source, output))
                handler = self.handlers.get(source)
                if handler is not None:
                    self.emit(source, handler(output, self.now))

    def run(
        self, until: float, step: float = 0.01, each_step: Callable[[float], None] | None = None
    ) -> None:
        """Advance simulated time to `until`, delivering datagrams and ticking every `step`."""
        while self.now < until:
            self.now = round(self.now + step, 6)
            while self._queue and self._queue[0].deliver_at <= self.now:
                packet = heapq.heappop(self._queue)
                endpoint = self.endpoints.get(packet.destination)
                if endpoint is not None:
                    replies = endpoint.datagram_received(packet.data, packet.source, self.now)
                    assert endpoint.stats["internal_error"] == 0, "the endpoint hit a bug"
                    self.emit(packet.destination, replies)
            for address, endpoint in self.endpoints.items():
                self.emit(address, endpoint.tick(self.now))
                deadline = endpoint.next_deadline()
                assert deadline is None or deadline > self.now, (
                    "a deadline in the past spins the daemon"
                )
            if each_step is not None:
                each_step(self.now)

    def of_type(self, address: Address, kind: type[Event]) -> list[Event]:
        return [event for event in self.events[address] if isinstance(event, kind)]
