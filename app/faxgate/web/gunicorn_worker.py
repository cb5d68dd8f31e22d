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
- one client address already has its share of the connections being read (or waiting for a
  thread, below): closed at once, so that a single host cannot fill `worker_connections`.

A pool thread reads the body and sends the response with the deadlines of body_rate.py (a
minimum rate after a grace period, and a longest single wait): a client too slow sending its
body gets 408 (falcon answers BodyTooSlow itself) and the connection is closed; one too slow
reading the response is cut off. And one client address may hold only its share of the pool
threads at once (thread_share.py): its further requests wait in the poller, so until those
deadlines fire, slow clients from one host still leave threads for the others.
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

from faxgate.web.body_rate import (
    BodyTooSlow,
    BodyUnreader,
    Meter,
    RateLimit,
    ResponseSocket,
)
from faxgate.web.head import Head, HeadBuffer
from faxgate.web.thread_share import ThreadShare

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


def _recv_ready(sock: socket.socket) -> bytes | None:
    """What a readable non-blocking socket has: None when nothing after all (a spurious wake-up),
    b"" when the client closed or the connection broke."""
    try:
        return sock.recv(_RECV_SIZE)
    except (BlockingIOError, InterruptedError):
        return None
    except OSError:
        return b""


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
    #: the request body: 20 s of grace, then 500 B/s (mod_reqtimeout's defaults), no wait
    #: over 60 s. A 64 kbit/s office link moves 8 KB/s, 16 times the rate: a 200 MB print job
    #: (ipp.maxsize) takes 7 hours that way and still passes. A CUPS backend pausing between
    #: pages while its filters render gets a minute per pause.
    body_rate: RateLimit = RateLimit(grace=20.0, min_rate=500.0, idle=60.0)
    #: the response, the same way: a client has to read it at least that fast
    send_rate: RateLimit = RateLimit(grace=20.0, min_rate=500.0, idle=60.0)
    #: pool threads one client address may hold at once; 0: half the threads (at least one)
    max_threads_per_address: int = 0

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
        self._threads: ThreadShare[Conn] = ThreadShare(
            self.max_threads_per_address or max(1, self.cfg.threads // 2)
        )
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
                "%s: TLS, uWSGI or HTTP/2 prior knowledge configured: request heads and bodies "
                "are read by pool threads without a deadline or a share per address",
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
        if self._per_address[address] + self._threads.waiting(address) >= self._address_cap:
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
        chunk = _recv_ready(conn.sock)
        if chunk is None:
            return
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
            conn.parser.unreader = BodyUnreader(
                conn.sock, self.body_rate, partial(self._body_too_slow, conn)
            )
        conn.parser.unreader.unread(bytes(reading.head.data))
        # The bytes are held: gthread's handle() must not wait for the socket to be readable.
        conn.data_ready = True
        self._to_pool(conn)

    def _to_pool(self, conn: Conn) -> None:
        address = client_address(conn.client)
        if self._threads.admit(address, conn):
            super().enqueue_req(conn)
        else:
            self.log.debug("%s holds its share of threads: a request waits", address)

    def _stop_reading(self, conn: Conn) -> None:
        reading = self._reading.pop(conn)
        self._per_address[reading.address] -= 1
        if self._per_address[reading.address] <= 0:
            del self._per_address[reading.address]
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(conn.sock)

    # -- in a pool thread -----------------------------------------------------------------

    def handle(self, conn: Conn) -> Any:
        unreader = conn.parser.unreader if conn.parser is not None else None
        if isinstance(unreader, BodyUnreader):
            unreader.restart()  # one handle() is one request
        return super().handle(conn)

    def handle_request(self, req: Any, conn: Conn) -> bool:
        """gthread's, with the response written through a ResponseSocket (its deadline)."""
        if not self._reads_heads:
            return bool(super().handle_request(req, conn))
        sock = conn.sock
        conn.sock = ResponseSocket(sock, self.send_rate, partial(self._send_too_slow, conn))
        try:
            return bool(super().handle_request(req, conn))
        except BodyTooSlow:
            # The application let it through unanswered (falcon answers it): gunicorn re-raises
            # only when nothing of the response was sent, so a 408 can still go out.
            self._answer_408(sock)
            return False
        finally:
            conn.sock = sock

    def _keepalive_after(self, conn: Conn, keepalive: bool) -> bool:
        try:
            return bool(super()._keepalive_after(conn, keepalive))
        except BodyTooSlow:  # the unread rest of a body, drained after the answer: close
            return False

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        if isinstance(exc, BodyTooSlow):  # not an error of the server's: no 500, no traceback
            self._answer_408(client)
            return
        super().handle_error(req, client, addr, exc)

    def _answer_408(self, sock: socket.socket) -> None:
        response = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
        with contextlib.suppress(OSError):
            sock.setblocking(False)
            sock.send(response)  # nothing was sent yet: fits the empty socket buffer
        with contextlib.suppress(OSError):
            sock.setblocking(True)

    def _body_too_slow(self, conn: Conn, meter: Meter) -> None:
        self.log.warning(
            "request body from %s too slow, %s: request aborted, connection closed",
            client_address(conn.client),
            meter,
        )
        request = conn.parser.mesg if conn.parser is not None else None
        if request is not None:
            request.must_close = True  # the answer says "Connection: close"

    def _send_too_slow(self, conn: Conn, meter: Meter) -> None:
        self.log.warning(
            "response to %s read too slowly, %s: connection closed",
            client_address(conn.client),
            meter,
        )

    # -- back from the pool (in the poller thread) ------------------------------------------

    def finish_request(self, conn: Conn, fs: Any) -> None:
        if not self._reads_heads:
            super().finish_request(conn, fs)
            return
        # The thread is free whatever the outcome (an exception included): the next waiting
        # request of the same address gets it first.
        waiting = self._threads.release(client_address(conn.client))
        if waiting is not None:
            super().enqueue_req(waiting)
        if not fs.cancelled() and fs.exception() is None and not fs.result():
            # gthread would close gracefully here, in the poller thread, waiting up to 2 s for a
            # client that may never close (one just cut for a slow body, say): linger instead.
            self._linger(conn)
            return
        super().finish_request(conn, fs)

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
        except OSError:
            self._drop(conn)
            return
        self._linger(conn)

    def _linger(self, conn: Conn) -> None:
        """Close after the client has read what was sent (see _LINGER), without blocking."""
        try:
            conn.sock.setblocking(False)
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
        chunk = _recv_ready(conn.sock)
        if chunk is None:
            return
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
