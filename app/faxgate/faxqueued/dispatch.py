"""The client of iaxmodemd's control interface: newline-delimited JSON on a Unix stream socket.

Requests: dial, abort, status (see docs/contracts). Each request opens its own short
connection: iaxmodemd may restart at any time, and a fresh connection per order makes that
invisible except as `ModemUnavailable`. Events (`subscribe`) are only hints for faster wake-ups;
the truth is the `calls` rows in the ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from faxgate.errors import FaxgateError
from faxgate.faxqueued.lines import LineStatus, parse_status

REQUEST_TIMEOUT_S = 5.0


class ModemUnavailable(FaxgateError):
    """iaxmodemd is not running or did not answer."""


class OrderUnconfirmed(ModemUnavailable):
    """The order reached iaxmodemd but its answer did not come back: the call may be running."""


class DialRefused(FaxgateError):
    """iaxmodemd answered a dial order with ok=false (line busy, down, document unreadable)."""


class ModemControl:
    """Talks to iaxmodemd at `socket_path`."""

    def __init__(self, socket_path: Path, timeout: float = REQUEST_TIMEOUT_S) -> None:
        self.socket_path = socket_path
        self.timeout = timeout

    async def request(self, payload: dict[str, Any]) -> dict[str, Any]:
        sent = False
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer = await asyncio.open_unix_connection(str(self.socket_path))
                try:
                    writer.write(json.dumps(payload).encode() + b"\n")
                    await writer.drain()
                    sent = True
                    line = await reader.readline()
                finally:
                    writer.close()
                    with contextlib.suppress(OSError):
                        await writer.wait_closed()
        except (OSError, TimeoutError) as exc:
            if sent:
                # iaxmodemd has the order and may act on it: the caller must not take it back.
                raise OrderUnconfirmed(
                    f"the fax lines (iaxmodemd) took the order but did not answer: {exc!r}"
                ) from exc
            raise ModemUnavailable(f"the fax lines (iaxmodemd) do not answer: {exc}") from exc
        if not line:  # the order went out, then the connection closed without an answer
            raise OrderUnconfirmed(
                "the fax lines (iaxmodemd) took the order, then closed without an answer"
            )
        return decode_answer(line)

    async def status(self) -> list[LineStatus]:
        try:
            return parse_status(await self.request({"op": "status"}))
        except ValueError as exc:
            raise ModemUnavailable(f"iaxmodemd gave an unreadable status: {exc}") from exc

    async def dial(
        self, job_id: int, line: str, number: str, document: Path, ident: str, header: str
    ) -> None:
        answer = await self.request(
            {
                "op": "dial",
                "job": job_id,
                "line": line,
                "number": number,
                "document": str(document),
                "ident": ident,
                "header": header,
            }
        )
        if not answer.get("ok"):
            raise DialRefused(str(answer.get("error", "the line refused the call")))

    async def abort(self, job_id: int) -> bool:
        answer = await self.request({"op": "abort", "job": job_id})
        return bool(answer.get("ok"))

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Yield events until the connection drops (raises ModemUnavailable when it cannot start)."""
        try:
            reader, writer = await asyncio.open_unix_connection(str(self.socket_path))
        except OSError as exc:
            raise ModemUnavailable(f"cannot subscribe to iaxmodemd: {exc}") from exc
        try:
            writer.write(b'{"op":"subscribe"}\n')
            await writer.drain()
            while line := await reader.readline():
                with contextlib.suppress(ValueError):
                    event = decode_answer(line)
                    if "event" in event:
                        yield event
        finally:
            writer.close()


def decode_answer(line: bytes) -> dict[str, Any]:
    if not line:
        raise ModemUnavailable("iaxmodemd closed the connection without an answer")
    try:
        value = json.loads(line)
    except ValueError as exc:
        raise ModemUnavailable(f"iaxmodemd answered something that is not JSON: {line!r}") from exc
    if not isinstance(value, dict):
        raise ModemUnavailable(f"iaxmodemd answered {value!r}, not an object")
    return value


def request_blocking(
    socket_path: Path, payload: dict[str, Any], timeout: float = REQUEST_TIMEOUT_S
) -> dict[str, Any]:
    """The same request without asyncio (for faxctl and the admin, e.g. aborting a call)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(socket_path))
            sock.sendall(json.dumps(payload).encode() + b"\n")
            buffer = b""
            while not buffer.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                buffer += chunk
    except OSError as exc:
        raise ModemUnavailable(f"the fax lines (iaxmodemd) do not answer: {exc}") from exc
    return decode_answer(buffer)
