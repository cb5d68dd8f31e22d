"""A gunicorn gthread worker that reads request heads in its poller thread, with a deadline.

gunicorn's gthread worker gives every accepted connection to a pool thread, which reads the
request head on a blocking socket with no deadline (gthread.py: accept → enqueue_req → handle →
TConn.init → next(conn.parser)). A client that trickles its head a byte at a time holds that
thread for as long as it likes, so as many slow clients as threads stop the service.

`HeadDeadlineWorker` keeps that thread free until the head is whole: every connection about to
be handed to the pool (a new one, a kept-alive one that became readable, one with pipelined
bytes left after a response) is first read non-blocking by the poller thread, and goes to the
pool only once its head has arrived, with the bytes read so far given back to gunicorn's parser
(its Unreader has `unread()`). The pool thread then parses a head it already holds and reads the
body as before (`Expect: 100-continue` and chunked bodies are untouched: both come after the
head). Unfinished heads are cut when

- the head deadline passes (counted from the accept, or from the first byte of a kept-alive
  connection's next request): 408 when some bytes came, a silent close otherwise;
- the head outgrows `max_header_bytes`: 431; a bare LF in it: 400 (gunicorn refuses it too);
- one client address already has its share of the connections being read: closed at once, so
  that a single host cannot fill `worker_connections` with unfinished heads.

Request bodies are still read by the pool thread as gthread reads them, without a deadline:
this worker is about heads only (slow bodies are an open problem, see docs/security.md).
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import time
from collections import Counter
from dataclasses import dataclass
from functools import partial
from typing import Any

from gunicorn import http
from gunicorn.workers.gthread import ThreadWorker

from faxgate.web.head import Head, HeadBuffer

# gunicorn's TConn: untyped, as is all of gunicorn.
Conn = Any

_RESPONSES = {
    Head.TOO_LARGE: b"431 Request Header Fields Too Large",
    Head.MALFORMED: b"400 Bad Request",
    Head.INCOMPLETE: b"408 Request Timeout",
}
# After an error response the client may still be sending: closing with unread bytes would
# make the kernel send a RST, which can destroy the response before the client reads it. So
# the connection lingers, its input discarded, until the client closes or this has passed.
_LINGER = 2.0
_LINGER_BYTES = 64 * 1024
# How long a stopping worker still reads heads (gthread keeps kept-alive connections as long).
_STOP_LINGER = 2.0
_RECV_SIZE = 16 * 1024


@dataclass
class _Reading:
    head: HeadBuffer
    deadline: float
    address: str


@dataclass
class _Closing:
    deadline: float
    discarded: int = 0


def client_address(client: object) -> str:
    """The host part of a peer address (a UNIX socket's peer has none: all share one)."""
    if isinstance(client, tuple) and client:
        return str(client[0])
    return str(client)


class HeadDeadlineWorker(ThreadWorker):  # type: ignore[misc]  # gunicorn is untyped
    """Used as `--worker-class faxgate.web.gunicorn_worker.HeadDeadlineWorker`: dotted, because
    gunicorn splits a worker class path at its last dot (`module:Class` does not load)."""

    #: seconds a client has for its whole request head
    header_timeout: float = 15.0
    #: bytes a request head may have (gunicorn's own limits, checked later, may be lower)
    max_header_bytes: int = 64 * 1024
    #: connections one client address may have being read at once; 0: a quarter of
    #: worker_connections
    max_reading_per_address: int = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Both dicts are only touched by the poller thread (enqueue_req is always called there:
        # from accept, from poller callbacks and from finish_request via the method queue).
        # Insertion order is deadline order: every entry gets the same timeout when added.
        self._reading: dict[Conn, _Reading] = {}
        self._closing: dict[Conn, _Closing] = {}
        self._per_address: Counter[str] = Counter()
        self._address_cap = self.max_reading_per_address or max(1, self.worker_connections // 4)
        self._stop_deadline: float | None = None
        # The head can only be read for the parser on plain HTTP/1.x: TLS is unwrapped by the
        # pool thread, uWSGI has no such head, and an HTTP/2 prior-knowledge preface is sniffed
        # in TConn.init. Those keep gthread's behaviour (and its weakness), said at start.
        self._reads_heads = (
            not self.cfg.is_ssl
            and getattr(self.cfg, "protocol", "http") == "http"
            and getattr(self.cfg, "http2_cleartext", "off") in ("off", "upgrade")
        )

    def init_process(self) -> None:
        if not self._reads_heads:
            self.log.warning(
                "%s: TLS, uWSGI or HTTP/2 prior knowledge configured: request heads are read "
                "by pool threads without a deadline",
                type(self).__name__,
            )
        super().init_process()

    # -- the way into the pool ------------------------------------------------------------

    def enqueue_req(self, conn: Conn) -> None:
        """Read the head first; the pool gets the connection once it is whole."""
        if not self._reads_heads:
            super().enqueue_req(conn)
            return
        address = client_address(conn.client)
        if self._per_address[address] >= self._address_cap:
            self.log.debug("too many unfinished requests from %s: connection closed", address)
            self._drop(conn)
            return
        reading = _Reading(
            HeadBuffer(self.max_header_bytes), time.monotonic() + self.header_timeout, address
        )
        # Bytes a body drain read ahead (a pipelined request) are the start of the next head.
        held = conn.parser.unreader.take_buffered() if conn.parser is not None else b""
        if held and (verdict := reading.head.feed(held)) is not Head.INCOMPLETE:
            self._conclude(conn, reading, verdict)
            return
        conn.sock.setblocking(False)
        self._reading[conn] = reading
        self._per_address[address] += 1
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_readable, conn))

    def _on_readable(self, conn: Conn, _sock: socket.socket) -> None:
        reading = self._reading.get(conn)
        if reading is None:  # an event selected before the connection was let go: stale
            return
        try:
            chunk = conn.sock.recv(_RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        if not chunk:  # the client left (or the connection broke) before its head was whole
            self._stop_reading(conn)
            self._drop(conn)
            return
        verdict = reading.head.feed(chunk)
        if verdict is not Head.INCOMPLETE:
            self._stop_reading(conn)
            self._conclude(conn, reading, verdict)

    def _conclude(self, conn: Conn, reading: _Reading, verdict: Head) -> None:
        if verdict is not Head.COMPLETE:
            self._refuse(conn, verdict)
            return
        if conn.parser is None:
            # What TConn.init would make in the pool thread; it leaves an existing parser alone.
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
        conn.parser.unreader.unread(bytes(reading.head.data))
        # The bytes are held: gthread's handle() must not wait for the socket to be readable.
        conn.data_ready = True
        super().enqueue_req(conn)

    def _stop_reading(self, conn: Conn) -> None:
        reading = self._reading.pop(conn)
        self._per_address[reading.address] -= 1
        if self._per_address[reading.address] <= 0:
            del self._per_address[reading.address]
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)

    # -- ending connections ---------------------------------------------------------------

    def _drop(self, conn: Conn) -> None:
        self.nr_conns -= 1
        conn.close()

    def _refuse(self, conn: Conn, why: Head) -> None:
        """Answer with an error status and close (after a linger, see _LINGER)."""
        self.log.debug("request head from %s refused: %s", conn.client, why.value)
        response = b"HTTP/1.1 %s\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        try:
            conn.sock.setblocking(False)
            conn.sock.send(response % _RESPONSES[why])  # fits any empty socket buffer
            conn.sock.shutdown(socket.SHUT_WR)
        except OSError:
            self._drop(conn)
            return
        self._closing[conn] = _Closing(time.monotonic() + _LINGER)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._on_discard, conn))

    def _on_discard(self, conn: Conn, _sock: socket.socket) -> None:
        closing = self._closing.get(conn)
        if closing is None:  # stale, as in _on_readable
            return
        try:
            chunk = conn.sock.recv(_RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            chunk = b""
        closing.discarded += len(chunk)
        if not chunk or closing.discarded > _LINGER_BYTES:
            self._end_closing(conn)

    def _end_closing(self, conn: Conn) -> None:
        del self._closing[conn]
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)
        self._drop(conn)

    def murder_pending(self) -> None:
        """gthread's sweep of timed-out connections, run by the poller loop about every
        second (and while stopping): also ends heads past their deadline and lingerers."""
        super().murder_pending()
        now = time.monotonic()
        if not self.alive and self._stop_deadline is None:
            self._stop_deadline = now + _STOP_LINGER
        expired = []
        for conn, reading in self._reading.items():
            deadline = reading.deadline
            if self._stop_deadline is not None:
                deadline = min(deadline, self._stop_deadline)
            if deadline > now:
                break  # deadline order (kept by capping all at one time): the rest are later
            expired.append((conn, reading))
        for conn, reading in expired:
            self._stop_reading(conn)
            if reading.head.data:
                self._refuse(conn, Head.INCOMPLETE)
            else:  # nothing was asked (a browser's spare connection, say): nothing to answer
                self._drop(conn)
        for conn in [c for c, closing in self._closing.items() if closing.deadline <= now]:
            self._end_closing(conn)
