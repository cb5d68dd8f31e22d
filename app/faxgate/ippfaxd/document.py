"""A print job's document as it arrives: streamed to the spool, never held whole in memory.

The request body is read until the IPP attribute section is complete; what follows is the
document, read in chunks while `intake.accept` writes it to disk. The first few kilobytes are
kept to sniff the format before anything is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

SNIFF_BYTES = 8192


class DocumentTooLarge(Exception):
    """The document grew beyond the configured limit while it was being stored."""


class DocumentStream:
    """The document bytes of one request: a buffered start, then the rest of the body."""

    def __init__(self, start: bytes, rest: Iterable[bytes], limit: int) -> None:
        self._buffer = start
        self._rest = iter(rest)
        self._consumed = False
        self.limit = limit
        self.size = 0

    @classmethod
    def of(cls, data: bytes, limit: int) -> DocumentStream:
        return cls(data, (), limit)

    def head(self, count: int = SNIFF_BYTES) -> bytes:
        """The first `count` bytes (fewer when the document is shorter)."""
        while len(self._buffer) < count:
            chunk = next(self._rest, b"")
            if not chunk:
                break
            self._buffer += chunk
        return self._buffer[:count]

    def __iter__(self) -> Iterator[bytes]:
        if self._consumed:
            raise RuntimeError("a document stream can be read once")
        self._consumed = True
        for chunk in self._chunks():
            self.size += len(chunk)
            if self.size > self.limit:
                raise DocumentTooLarge(f"the document is larger than {self.limit} bytes")
            yield chunk

    def _chunks(self) -> Iterator[bytes]:
        if self._buffer:
            yield self._buffer
            self._buffer = b""
        for chunk in self._rest:
            if chunk:
                yield chunk

    def drain(self) -> None:
        """Read and drop what is left (so the connection can serve the next request)."""
        for _ in self._rest:
            pass
