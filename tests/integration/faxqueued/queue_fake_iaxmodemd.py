"""A stand-in for iaxmodemd's control interface and ledger writes, for faxqueued's tests.

It speaks the contract (dial/abort/status/subscribe on the Unix socket), writes `calls` rows
like iaxmodemd (active at start, ended with an outcome), and for a successful call "receives"
the fax on the loopback trunk: a copy of the document in recvq/ and a `received_faxes` row with
the dialled number as DNID. Outcomes per number come from `script` (default: done).

This is a test double of the *other* program; the proof with the real iaxmodemd is
test_queue_end_to_end.py.
"""

from __future__ import annotations

import json
import shutil
import socketserver
import threading
import time
from pathlib import Path
from typing import Any

from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger


class FakeIaxmodemd:
    def __init__(
        self,
        spool: Spool,
        lines: int = 4,
        call_seconds: float = 0.3,
        script: dict[str, list[str]] | None = None,
        refuse: dict[str, int] | None = None,
    ) -> None:
        self.spool = spool
        self.lines: dict[str, int | None] = {str(i): None for i in range(1, lines + 1)}
        self.call_seconds = call_seconds
        self.script = script or {}
        self.dials: list[dict[str, Any]] = []
        # number -> how many dial orders to refuse first, as iaxmodemd does for a missing
        # document or an unregistered line; each refusal is kept with its time
        self.refuse = dict(refuse or {})
        self.refused: list[float] = []
        self.dialled: list[float] = []  # time.monotonic() of each order taken
        self.lock = threading.Lock()
        self.server: socketserver.ThreadingUnixStreamServer | None = None
        self.stopped = threading.Event()

    # -- socket --------------------------------------------------------------------------
    def start(self) -> None:
        path = self.spool.iaxmodemd_socket
        path.unlink(missing_ok=True)
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                for raw in self.rfile:
                    answer = fake.answer(json.loads(raw))
                    self.wfile.write(json.dumps(answer).encode() + b"\n")
                    if raw.strip().startswith(b'{"op":"subscribe"') or b'"subscribe"' in raw:
                        fake.stopped.wait()
                        return

        self.server = socketserver.ThreadingUnixStreamServer(str(path), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        """Like kill -9: the socket goes, calls in progress never end."""
        self.stopped.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        self.spool.iaxmodemd_socket.unlink(missing_ok=True)

    def answer(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "status":
            with self.lock:
                return {
                    "ok": True,
                    "lines": [
                        {
                            "line": name,
                            "state": "idle" if job is None else "sending",
                            "detail": "",
                            "job": job,
                        }
                        for name, job in self.lines.items()
                    ],
                }
        if op == "dial":
            with self.lock:
                line = str(request["line"])
                if self.refuse.get(str(request["number"]), 0) > 0:
                    self.refuse[str(request["number"])] -= 1
                    self.refused.append(time.monotonic())
                    return {"ok": False, "error": "no free line is registered with the IAX2 server"}
                if self.lines.get(line, 0) is not None:
                    return {"ok": False, "error": f"line {line} is busy"}
                self.lines[line] = int(request["job"])
                self.dials.append(request)
                self.dialled.append(time.monotonic())
            threading.Thread(target=self._call, args=(request,), daemon=True).start()
            return {"ok": True}
        if op == "abort":
            return {"ok": True}
        if op == "subscribe":
            return {"ok": True}
        return {"ok": False, "error": "unknown op"}

    # -- the call ------------------------------------------------------------------------
    def _call(self, request: dict[str, Any]) -> None:
        number = str(request["number"])
        outcomes = self.script.get(number)
        with self.lock:
            outcome = outcomes.pop(0) if outcomes else "done"
        with Ledger.open(self.spool.ledger_path, migrate=False) as ledger:
            with ledger.transaction() as conn:
                call_id = conn.execute(
                    "INSERT INTO calls (job_id, direction, line, number, state, started_at)"
                    " VALUES (?, 'out', ?, ?, 'active', ?)",
                    (request["job"], request["line"], number, time.time()),
                ).lastrowid
            if self.stopped.wait(self.call_seconds):
                return  # killed mid-call: the row stays active
            document = Path(request["document"])
            from faxgate.convert.tiffio import inspect_tiff

            pages = len(inspect_tiff(document)) if outcome == "done" else 0
            if outcome == "done":
                target = self.spool.recvq / f"fax{call_id:08d}.tif"
                shutil.copyfile(document, target)
            with ledger.transaction() as conn:
                conn.execute(
                    "UPDATE calls SET state = 'ended', outcome = ?, message = ?,"
                    " reached_handshake = ?, pages = ?, remote_ident = ?, bit_rate = 14400,"
                    " ended_at = ? WHERE id = ?",
                    (
                        outcome,
                        "" if outcome == "done" else f"fake {outcome}",
                        int(outcome in ("done", "protocol_failure")),
                        pages,
                        "REMOTE FAX",
                        time.time(),
                        call_id,
                    ),
                )
                if outcome == "done":
                    conn.execute(
                        "INSERT INTO received_faxes (tiff_path, dnid, caller_id, remote_ident,"
                        " pages, line, bit_rate, ecm, duration, state, received_at)"
                        " VALUES (?, ?, 'faxgate', 'faxgate', ?, '9', 14400, 1, 1.0,"
                        " 'received', ?)",
                        (str(target), number, pages, time.time()),
                    )
        with self.lock:
            self.lines[str(request["line"])] = None
