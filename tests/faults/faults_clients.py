"""Well-formed and hostile clients for the fault tests: one good request per port, garbage,
and slowloris connections that trickle a request a byte at a time."""

from __future__ import annotations

import contextlib
import http.client
import random
import smtplib
import socket
import struct
import threading
import time
from email.message import EmailMessage

from faults_ipp import request_bytes

from faxgate.ipp.codec import decode_message
from faxgate.ipp.constants import Operation, Status


def a_mail(
    to: str = "x@0991234.fax", subject: str = "fault test", body: str = "Hello fax.\n"
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "sender@example.com"
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message


# Good clients come from another loopback address than the hostile ones (which use 127.0.0.1),
# as a company's mail server or printers would: per-client limits can tell them apart.
GOOD_SOURCE = "127.0.0.2"


def good_smtp(port: int, timeout: float = 20) -> bool:
    """One mail accepted with 250 (send_message raises for anything else)."""
    with smtplib.SMTP(
        "127.0.0.1", port, timeout=timeout, source_address=(GOOD_SOURCE, 0)
    ) as client:
        refused = client.send_message(a_mail())
    return not refused


def good_ipp(port: int, timeout: float = 20) -> bool:
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=timeout, source_address=(GOOD_SOURCE, 0)
    )
    try:
        connection.request("POST", "/printers/sendfax",
                           body=request_bytes(Operation.GET_PRINTER_ATTRIBUTES, port),
                           headers={"Content-Type": "application/ipp"})  # fmt: skip
        response = connection.getresponse()
        return (
            response.status == 200 and decode_message(response.read()).code == Status.SUCCESSFUL_OK
        )
    finally:
        connection.close()


def good_http(port: int, path: str = "/login", timeout: float = 20) -> bool:
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=timeout, source_address=(GOOD_SOURCE, 0)
    )
    try:
        connection.request("GET", path, headers={"Accept": "text/html"})
        response = connection.getresponse()
        response.read()
        return response.status == 200
    finally:
        connection.close()


def iax_poke(port: int, timeout: float = 5) -> bool:
    """An IAX2 POKE must be answered with a PONG by a live line."""
    poke = struct.pack("!HHIBBBB", 0x8000 | random.randint(1, 0x7FFF), 0, 0, 0, 0, 6, 0x1E)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(poke, ("127.0.0.1", port))
        try:
            data, _ = sock.recvfrom(4096)
        except TimeoutError:
            return False
    return len(data) >= 12 and data[10] == 6 and data[11] == 0x03  # IAX / PONG


HTTP_JUNK = [
    b"GET / HTTP/1.1\r\nHost: " + b"a" * 70000 + b"\r\n\r\n",
    b"POST /printers/sendfax HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzzzz\r\n",
    b"POST /printers/sendfax HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
    b"POST /printers/sendfax HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n\x01",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(200),  # a TLS hello on a plain port
    b"GET /" + b"../" * 3000 + b" HTTP/1.0\r\n\r\n",
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 5000 + b"\r\n",
]
SMTP_JUNK = [
    b"EHLO x\r\nMAIL FROM:<" + b"a" * 100000 + b">\r\n",
    b"EHLO x\r\nAUTH PLAIN !!!!\r\nAUTH LOGIN\r\n====\r\n",
    b"HELO x\r\nDATA\r\n.\r\nRCPT TO:<>\r\nBDAT 10 LAST\r\n",
    b"EHLO x\r\nSTARTTLS\r\n\x16\x03\x01garbage",
    b"\x00\xff" * 5000,
    b"EHLO x\r\nMAIL FROM:<a@b> SIZE=999999999999999999999\r\n",
    b"EHLO x\r\nMAIL FROM:<a@b>\r\nRCPT TO:<x@0991234.fax>\r\nDATA\r\n" + b"A" * 100000 + b"\r\n",
]


def garbage_tcp(port: int, rng: random.Random, junk: list[bytes]) -> None:
    """Connect, send one piece of junk or random bytes, maybe close at once, never fail."""
    with (
        contextlib.suppress(OSError),
        socket.create_connection(("127.0.0.1", port), timeout=3) as sock,
    ):
        payload = rng.choice(junk) if rng.random() < 0.6 else rng.randbytes(rng.randint(0, 20000))
        sock.sendall(payload)
        if rng.random() < 0.5:
            with contextlib.suppress(OSError):
                sock.recv(4096)


def garbage_udp(port: int, rng: random.Random) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        if rng.random() < 0.5:
            data = rng.randbytes(rng.randint(0, 1500))
        else:  # a full-frame header with random rest: gets past the first checks
            data = struct.pack("!HHIBBBB", 0x8000 | rng.randint(0, 0x7FFF), rng.randint(0, 0xFFFF),
                               rng.randint(0, 2**32 - 1), rng.randint(0, 255), rng.randint(0, 255),
                               rng.choice([1, 2, 4, 6, 10]), rng.randint(0, 255))  # fmt: skip
            data += rng.randbytes(rng.randint(0, 200))
        with contextlib.suppress(OSError):
            sock.sendto(data, ("127.0.0.1", port))


class Slowloris:
    """`count` connections that each send `prefix` a byte per `interval` seconds, never finishing."""

    def __init__(self, port: int, count: int, prefix: bytes, interval: float = 1.0) -> None:
        self.port = port
        self.prefix = prefix
        self.interval = interval
        self.sockets: list[socket.socket] = []
        self.opened = 0
        self._stop = threading.Event()
        for _ in range(count):
            with contextlib.suppress(OSError):
                sock = socket.create_connection(
                    ("127.0.0.1", port), timeout=5, source_address=("127.0.0.1", 0)
                )
                sock.setblocking(False)
                self.sockets.append(sock)
        self.opened = len(self.sockets)
        self._thread = threading.Thread(target=self._trickle, daemon=True)
        self._thread.start()

    def _trickle(self) -> None:
        position = 0
        while not self._stop.wait(self.interval):
            byte = self.prefix[position % len(self.prefix) : position % len(self.prefix) + 1]
            if position >= len(self.prefix):
                byte = b"X"  # endless header line
            position += 1
            for sock in self.sockets:
                with contextlib.suppress(OSError):
                    sock.send(byte)

    def still_open(self) -> int:
        """How many of the slow connections the server has not closed yet."""
        alive = 0
        for sock in self.sockets:
            try:
                data = sock.recv(1, socket.MSG_PEEK)
                alive += 1 if data else 0  # data: the server answered (e.g. 408) but kept it
            except BlockingIOError:
                alive += 1
            except OSError:
                pass
        return alive

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for sock in self.sockets:
            sock.close()


def timed(check: object, *args: object) -> tuple[bool, float]:
    """(result, seconds) of one good-client call; exceptions count as failure."""
    start = time.monotonic()
    try:
        ok = bool(check(*args))  # type: ignore[operator]
    except Exception:
        ok = False
    return ok, time.monotonic() - start


# aiosmtpd logs a failed TLS handshake (a client that sends garbage after STARTTLS) as an
# ERROR with a traceback of its own; the session ends cleanly. Noise, not a fault of ours.
EXPECTED_EXCEPTIONS = ("aiosmtpd.smtp.TLSSetupException", "ConnectionResetError", "ssl.SSLError")


def unexpected_exceptions(log: str) -> list[str]:
    """The exception lines of the tracebacks in `log`, except the expected library noise."""
    found: list[str] = []
    in_traceback = False
    for line in log.splitlines():
        if line.startswith("Traceback (most recent call last)"):
            in_traceback = True
            continue
        if not in_traceback or line.startswith((" ", "\t")) or not line.strip():
            continue
        if line.startswith("The above exception") or line.startswith("During handling"):
            continue
        in_traceback = False
        if not line.startswith(EXPECTED_EXCEPTIONS):
            found.append(line)
    return found
