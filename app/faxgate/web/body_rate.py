"""Deadlines for a request's body and its response, as a minimum rate after a grace period.

A pool thread reads a request body and sends the response on a blocking socket: without a
deadline a client that trickles its body (or does not read the response) holds that thread as
long as it likes. As Apache's mod_reqtimeout (`body=20,MinRate=500`) does, every wait for the
client gets a timeout: the client has `grace` seconds, plus one second for every `min_rate`
bytes it moved, and no single wait may take longer than `idle`. Only the time spent waiting for
the client counts: a slow application (or a request queued for a free thread) is not the
client's fault, and what the client sent meanwhile is in the kernel's buffer, read without
waiting.

`BodyUnreader` is gunicorn's SocketUnreader with that deadline on every recv;
`ResponseSocket` wraps the socket the response is written to with the same on every send.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

import falcon
from gunicorn.http.unreader import SocketUnreader

# A wait for which no time is left still looks once: what already arrived counts.
_LAST_LOOK = 0.001
# sendfile() goes out in pieces so that the deadline is checked between them.
_SENDFILE_PIECE = 256 * 1024


@dataclass(frozen=True)
class RateLimit:
    #: seconds of waiting a client has before its bytes must pay for the time
    grace: float
    #: bytes a second, on average over the waiting time, after the grace
    min_rate: float
    #: seconds one wait may take at most, however much came before
    idle: float


class Meter:
    """Bytes moved and seconds spent waiting for the client, for one request (or response)."""

    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self.bytes = 0
        self.waited = 0.0

    def allowance(self) -> float:
        """How long the next wait may take."""
        credit = self.limit.grace + self.bytes / self.limit.min_rate - self.waited
        return min(self.limit.idle, credit)

    def __str__(self) -> str:
        return (
            f"{self.bytes} bytes in {self.waited:.1f} s of waiting (at least "
            f"{self.limit.min_rate:g} B/s after {self.limit.grace:g} s, no wait over "
            f"{self.limit.idle:g} s)"
        )


class BodyTooSlow(falcon.HTTPError):
    """Raised from the body's read when the client is too slow; a falcon application answers
    it as it answers any HTTPError (408, no traceback), gunicorn's own paths are in the worker.
    The connection is closed after the answer: where the body ends is unknown."""

    def __init__(self) -> None:
        super().__init__(
            falcon.HTTP_408,
            title="Request body too slow",
            description="The request body did not arrive fast enough.",
        )


class SendTooSlow(BrokenPipeError):
    """Raised from a send when the client does not read the response fast enough. A broken
    pipe for gunicorn: the connection is given up without a traceback in the log."""

    def __init__(self) -> None:
        super().__init__(errno.EPIPE, "the client does not read the response")


class BodyUnreader(SocketUnreader):  # type: ignore[misc]  # gunicorn is untyped
    """gunicorn's SocketUnreader with the body deadline on each recv. `on_too_slow` is told
    (once) before BodyTooSlow is raised; every read after that raises at once."""

    def __init__(self, sock: Any, limit: RateLimit, on_too_slow: Callable[[Meter], None]) -> None:
        super().__init__(sock)
        self.limit = limit
        self.meter = Meter(limit)
        self.too_slow = False
        self._on_too_slow = on_too_slow

    def restart(self) -> None:
        """A new request on the connection: its body gets its own grace. (Body bytes that came
        with the head, read by the poller, are not counted: at most one recv's worth.)"""
        self.meter = Meter(self.limit)

    def chunk(self, size_hint: int | None = None) -> bytes:
        if self.too_slow:
            raise BodyTooSlow()
        # gunicorn's body drain (Parser.finish_body) sets a timeout of its own: the earlier
        # deadline wins, and when it is the drain's, its TimeoutError is the drain's to handle.
        caller = self.sock.gettimeout()
        allowance = self.meter.allowance()
        self.sock.settimeout(
            max(_LAST_LOOK, allowance if caller is None else min(caller, allowance))
        )
        started = time.monotonic()
        try:
            data: bytes = super().chunk(size_hint)
        except TimeoutError:
            if caller is not None and caller <= allowance:
                raise
            self.too_slow = True
        finally:
            self.meter.waited += time.monotonic() - started
            self.sock.settimeout(caller)
        if self.too_slow:
            self._on_too_slow(self.meter)
            raise BodyTooSlow()
        self.meter.bytes += len(data)
        return data


class ResponseSocket:
    """The client socket as gunicorn's Response sees it: send, sendall and sendfile with the
    response deadline; everything else is the socket's own. `on_too_slow` is told before
    SendTooSlow is raised."""

    def __init__(self, sock: Any, limit: RateLimit, on_too_slow: Callable[[Meter], None]) -> None:
        self._sock = sock
        self.meter = Meter(limit)
        self._on_too_slow = on_too_slow

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    def _timed(self, send: Callable[..., int], *args: Any) -> int:
        prior = self._sock.gettimeout()
        self._sock.settimeout(max(_LAST_LOOK, self.meter.allowance()))
        started = time.monotonic()
        try:
            sent = int(send(*args))
        except TimeoutError:
            sent = -1
        finally:
            self.meter.waited += time.monotonic() - started
            self._sock.settimeout(prior)
        if sent < 0:
            self._on_too_slow(self.meter)
            raise SendTooSlow()
        self.meter.bytes += sent
        return sent

    def send(self, data: bytes, flags: int = 0) -> int:
        return self._timed(self._sock.send, data, flags)

    def sendall(self, data: bytes, flags: int = 0) -> None:
        # socket.sendall's timeout bounds the whole call: a large response over a slow link
        # would fail. Partial sends, each with the deadline, let the rate decide instead.
        view = memoryview(data).cast("B")
        while view:
            sent = self._timed(self._sock.send, view, flags)
            view = view[sent:]

    def sendfile(self, file: BinaryIO, offset: int = 0, count: int | None = None) -> int:
        total = 0
        while count is None or total < count:
            piece = _SENDFILE_PIECE if count is None else min(_SENDFILE_PIECE, count - total)
            sent = self._timed(self._sock.sendfile, file, offset + total, piece)
            if not sent:
                break
            total += sent
        return total
