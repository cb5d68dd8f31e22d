"""What each line is doing: HylaFAX-style status lines in `status/` and per-call session logs.

`status/line<i>` holds one line of text (`idle`, `registering`, `dialling 0991234`,
`sending page 2/5 at 14400`, `receiving from +49…`), replaced atomically on every change, like
HylaFAX's `status/<modem>` files that `faxstat` shows. The control interface reports the same
state with its machine-readable name.
"""

from __future__ import annotations

import concurrent.futures
import enum
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from faxgate.spool.atomic import TEMP_PREFIX
from faxgate.spool.layout import Spool

logger = logging.getLogger("iaxmodemd")


class LineState(enum.Enum):
    """The state names of the control interface's status answer."""

    IDLE = "idle"
    REGISTERING = "registering"
    DIALLING = "dialling"
    SENDING = "sending"
    RECEIVING = "receiving"
    DOWN = "down"


@dataclass
class LineStatus:
    """One line's state, its words for people and the job it works on."""

    line: str
    state: LineState = LineState.IDLE
    detail: str = "idle"
    job: int | None = None
    changed_at: float = field(default_factory=time.time)

    def as_json(self) -> dict[str, object]:
        return {
            "line": self.line,
            "state": self.state.value,
            "detail": self.detail,
            "job": self.job,
        }


def page_detail(verb: str, page: int, pages: int | None, bit_rate: int) -> str:
    """`sending page 2/5 at 14400` (the page in progress, not the pages done)."""
    total = f"/{pages}" if pages else ""
    speed = f" at {bit_rate}" if bit_rate else ""
    return f"{verb} page {page}{total}{speed}"


class StatusBoard:
    """The status of every line, mirrored into `status/line<i>`."""

    def __init__(self, spool: Spool, lines: list[str]) -> None:
        self._spool = spool
        self.lines: dict[str, LineStatus] = {line: LineStatus(line) for line in lines}
        # Files are written by one thread, in order, so the audio clocks never wait for the disk.
        self._writer: concurrent.futures.ThreadPoolExecutor | None = None
        for line in lines:
            self._write_file(line, self.lines[line].detail)

    def start_writer(self) -> None:
        self._writer = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="status")

    def stop_writer(self) -> None:
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.shutdown(wait=True)

    def path_of(self, line: str) -> Path:
        return self._spool.status / f"line{line}"

    def set(self, line: str, state: LineState, detail: str, job: int | None = None) -> bool:
        """Record a line's state; False when nothing changed (nothing written)."""
        status = self.lines[line]
        if status.state is state and status.detail == detail and status.job == job:
            return False
        status.state, status.detail, status.job = state, detail, job
        status.changed_at = time.time()
        self._write(status)
        return True

    def _write(self, status: LineStatus) -> None:
        if self._writer is None:
            self._write_file(status.line, status.detail)
        else:
            self._writer.submit(self._write_file, status.line, status.detail)

    def _write_file(self, line: str, detail: str) -> None:
        """Replace the status file atomically (rename), without fsync: it is a hint that the
        next change rewrites, and an fsync per change would cost more than the line's audio."""
        path = self.path_of(line)
        temporary = self._spool.tmp / f"{TEMP_PREFIX}status-{line}-{os.getpid()}"
        try:
            temporary.write_text(f"{detail}\n")
            temporary.chmod(0o644)
            os.replace(temporary, path)
        except OSError as exc:  # a status line is a hint; a full disk must not stop a call
            logger.warning("cannot write the status of line %s: %s", line, exc)

    def snapshot(self) -> list[dict[str, object]]:
        return [self.lines[line].as_json() for line in self.lines]

    def remove_files(self) -> None:
        for line in self.lines:
            self.path_of(line).unlink(missing_ok=True)


class _LogWriter:
    """One thread that writes every session log's lines, so the loop never waits for a disk."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def put(self, job: Callable[[], None]) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="session-logs", daemon=True)
                self._thread.start()
        self._queue.put(job)

    def flush(self, timeout: float) -> bool:
        """Wait until every line queued so far is written; False on timeout."""
        done = threading.Event()
        self.put(done.set)
        return done.wait(timeout)

    def _run(self) -> None:
        while True:
            self._queue.get()()


_WRITER = _LogWriter()


class SessionLog(logging.Handler):
    """A per-call log file in `log/`: spandsp's lines and the IAX2 events of one call.

    Records are formatted on the caller's thread and written by one writer thread.
    """

    def __init__(self, path: Path) -> None:
        super().__init__(level=logging.DEBUG)
        self.path = path
        self._file = path.open("a", encoding="utf-8")
        self.closed = threading.Event()
        self.setFormatter(logging.Formatter("%(asctime)s.%(msecs)03d %(message)s", "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + "\n"
            _WRITER.put(lambda: self.write_now(line))
        except Exception:
            self.handleError(record)

    def write_now(self, line: str | None) -> None:
        """(writer thread) Append `line`, or close the file for None."""
        try:
            if line is None:
                self._file.close()
                self.closed.set()
            else:
                self._file.write(line)
        except (OSError, ValueError) as exc:
            logger.warning("session log %s: %s", self.path.name, exc)

    def close(self) -> None:
        """Close once every line before this call is written (does not wait for it)."""
        _WRITER.put(lambda: self.write_now(None))
        super().close()


def flush_session_logs(timeout: float = 2.0) -> bool:
    """Wait for the session-log writer to catch up (at shutdown)."""
    return _WRITER.flush(timeout)


def open_session_log(spool: Spool, name: str) -> tuple[logging.Logger, SessionLog]:
    """A logger writing only to `log/<name>` (not to stderr): the call's session log."""
    handler = SessionLog(spool.log / name)
    session = logging.getLogger(f"iaxmodemd.session.{name}")
    session.propagate = False
    session.setLevel(logging.DEBUG)
    session.handlers = [handler]
    return session, handler


def close_session_log(session: logging.Logger, handler: SessionLog) -> None:
    session.removeHandler(handler)
    handler.close()
    # Loggers live forever in logging's registry; forget this one so calls do not leak.
    logging.Logger.manager.loggerDict.pop(session.name, None)
