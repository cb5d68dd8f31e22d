"""Where an HTTP/1.x request head ends, found in the bytes as they arrive.

Nothing is parsed here: gunicorn's parser does that once the head is complete. This only tells
the worker's poller thread when it holds a whole head, so that no pool thread ever waits on a
client for one (see gunicorn_worker.py).
"""

from __future__ import annotations

import enum
import re

_END = b"\r\n\r\n"
# RFC 9112 §2.2: every line of the head ends with CRLF; gunicorn refuses a bare LF, so a head
# that has one is refused at once instead of being waited for until the deadline.
_BARE_LF = re.compile(rb"(?<!\r)\n")


class Head(enum.Enum):
    INCOMPLETE = "incomplete"
    COMPLETE = "complete"
    TOO_LARGE = "too large"
    MALFORMED = "malformed"


class HeadBuffer:
    """The bytes of one request head (and whatever the client sent after it), up to `limit`."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.data = bytearray()

    def feed(self, chunk: bytes) -> Head:
        scanned = len(self.data)
        self.data += chunk
        # One empty line before the request line is allowed (RFC 9112 §2.2, as gunicorn does):
        # it must not pass for the empty line that ends the head.
        start = 2 if self.data.startswith(b"\r\n") else 0
        end = self.data.find(_END, max(start, scanned - len(_END) + 1))
        if end >= 0:
            return Head.TOO_LARGE if end + len(_END) > self.limit else Head.COMPLETE
        if len(self.data) > self.limit:
            return Head.TOO_LARGE
        if _BARE_LF.search(self.data, max(start, scanned)):
            return Head.MALFORMED
        return Head.INCOMPLETE
