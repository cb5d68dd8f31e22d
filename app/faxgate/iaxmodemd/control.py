"""The control interface for faxqueued: newline-delimited JSON on a Unix stream socket.

Requests (one JSON object a line) and their answers:

- `{"op":"dial","job":ID,"line":"1","number":"100","document":"/abs/doc.tif","ident":"…",
  "header":"…"}` → `{"ok":true}` or `{"ok":false,"error":"…"}` (line is optional: any free line);
- `{"op":"abort","job":ID}` → `{"ok":true}` or `{"ok":false,"error":"…"}`;
- `{"op":"status"}` → `{"ok":true,"lines":[{"line","state","detail","job"}, …]}`;
- `{"op":"subscribe"}` → `{"ok":true}`, then events on the same connection:
  `{"event":"ringing|connected|page|result|received|line", …}`.

Events are hints; the truth is in the ledger (`calls`, `received_faxes`). A subscriber that
does not read is dropped rather than allowed to make the daemon buffer without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from faxgate.errors import FaxgateError

logger = logging.getLogger("iaxmodemd")

MAX_REQUEST_BYTES = 64 * 1024
MAX_SUBSCRIBER_BACKLOG = 256 * 1024


class ControlError(FaxgateError):
    """A control request cannot be carried out; the message goes back to the client."""


@dataclass(frozen=True)
class DialOrder:
    """A validated dial request."""

    job: int
    number: str
    document: Path
    line: str | None
    ident: str | None
    header: str | None


class ControlHandler(Protocol):
    """What the daemon does for the control interface."""

    def dial(self, order: DialOrder) -> None: ...

    def abort(self, job: int) -> None: ...

    def status(self) -> list[dict[str, object]]: ...


def _text(request: dict[str, Any], name: str, required: bool = False) -> str | None:
    value = request.get(name)
    if value is None:
        if required:
            raise ControlError(f"{name!r} is missing")
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ControlError(f"{name!r} must be a string")
    return value


def _job(request: dict[str, Any]) -> int:
    job = request.get("job")
    if not isinstance(job, int) or isinstance(job, bool) or job <= 0:
        raise ControlError("'job' must be a positive integer")
    return job


def parse_dial(request: dict[str, Any]) -> DialOrder:
    """Check a dial request; ControlError in plain words when it is not acceptable."""
    number = _text(request, "number", required=True) or ""
    if not number or len(number) > 40 or not all(c.isdigit() or c in "+*#" for c in number):
        raise ControlError(f"the number {number!r} is not a dialable number")
    document = Path(_text(request, "document", required=True) or "")
    if not document.is_absolute():
        raise ControlError("'document' must be an absolute path")
    return DialOrder(
        job=_job(request),
        number=number,
        document=document,
        line=_text(request, "line"),
        ident=_text(request, "ident"),
        header=_text(request, "header"),
    )


def handle_request(handler: ControlHandler, request: object) -> dict[str, object]:
    """One request → its answer (subscribe is handled by the connection)."""
    if not isinstance(request, dict):
        return {"ok": False, "error": "a request must be a JSON object"}
    op = request.get("op")
    try:
        if op == "dial":
            handler.dial(parse_dial(request))
            return {"ok": True}
        if op == "abort":
            handler.abort(_job(request))
            return {"ok": True}
        if op == "status":
            return {"ok": True, "lines": handler.status()}
    except FaxgateError as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": False, "error": f"unknown op {op!r}"}


def encode(message: dict[str, object]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


class ControlServer:
    """The Unix socket server; `publish` sends an event to every subscriber."""

    def __init__(self, path: Path, handler: ControlHandler) -> None:
        self.path = path
        self._handler = handler
        self._server: asyncio.AbstractServer | None = None
        self._subscribers: set[asyncio.StreamWriter] = set()
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # a socket left by a killed iaxmodemd
        self._server = await asyncio.start_unix_server(
            self._serve, path=str(self.path), limit=MAX_REQUEST_BYTES
        )
        os.chmod(self.path, 0o660)

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._subscribers):
            writer.close()
        for task in list(self._connections):
            task.cancel()
        if self._connections:
            await asyncio.gather(*self._connections, return_exceptions=True)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def publish(self, event: dict[str, object]) -> None:
        data = encode(event)
        for writer in list(self._subscribers):
            if writer.is_closing():
                self._subscribers.discard(writer)
                continue
            transport = writer.transport
            if transport.get_write_buffer_size() > MAX_SUBSCRIBER_BACKLOG:
                logger.warning("control: dropping a subscriber that does not read its events")
                self._subscribers.discard(writer)
                writer.close()
                continue
            writer.write(data)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            while True:
                try:
                    line = await reader.readline()
                except (ValueError, asyncio.LimitOverrunError):
                    writer.write(encode({"ok": False, "error": "request too long"}))
                    break
                if not line:
                    break
                try:
                    request = json.loads(line)
                except ValueError:
                    writer.write(encode({"ok": False, "error": "not JSON"}))
                    continue
                if isinstance(request, dict) and request.get("op") == "subscribe":
                    writer.write(encode({"ok": True}))
                    self._subscribers.add(writer)
                    continue
                writer.write(encode(handle_request(self._handler, request)))
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self._subscribers.discard(writer)
            self._connections.discard(task)
            writer.close()
