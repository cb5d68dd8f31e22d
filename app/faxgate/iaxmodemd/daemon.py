"""The daemon: the lines, the control socket, the ledger writer, settings and signals.

Everything runs on one asyncio loop. Ledger writes (which fsync) go to one worker thread, in
order, so the 20 ms audio clocks never wait for the disk.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import time
from pathlib import Path

from faxgate.errors import FaxgateError
from faxgate.faxengine import CallReport, Outcome
from faxgate.iaxmodemd import records
from faxgate.iaxmodemd.config import LinesConfig, TrunkMode, lines_config
from faxgate.iaxmodemd.control import ControlError, ControlServer, DialOrder
from faxgate.iaxmodemd.faxcall import CallParams, Direction
from faxgate.iaxmodemd.line import Line, LineCall
from faxgate.iaxmodemd.status import (
    LineState,
    SessionLog,
    StatusBoard,
    close_session_log,
    flush_session_logs,
)
from faxgate.settings import Settings, load_settings
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

logger = logging.getLogger("iaxmodemd")

END_CALL_ATTEMPTS = 3
END_CALL_RETRY_S = 1.0

Address = tuple[str, int]

LOOPBACK_RESERVATION_SECONDS = 10.0


class LedgerWorker:
    """One thread with its own ledger connection; jobs run in submission order."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._ledger: Ledger | None = None
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="ledger")

    def _ledger_here(self) -> Ledger:
        if self._ledger is None:
            self._ledger = Ledger.open(self._path)
        return self._ledger

    def run(self, job: object, *args: object) -> asyncio.Future[object]:
        assert callable(job)
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self._executor, lambda: job(self._ledger_here(), *args))

    def close(self) -> None:
        def closer() -> None:
            if self._ledger is not None:
                self._ledger.close()

        self._executor.submit(closer)
        self._executor.shutdown(wait=True)


class Daemon:
    """iaxmodemd: N lines on one spool."""

    def __init__(self, spool: Spool, settings: Settings) -> None:
        self.spool = spool
        self.settings = settings
        self.config: LinesConfig = lines_config(settings)
        self.lines: dict[str, Line] = {}
        self.board = StatusBoard(spool, self.config.line_names)
        self.ledger = LedgerWorker(spool.ledger_path)
        self.control = ControlServer(spool.iaxmodemd_socket, self)
        self._reader: Ledger | None = None  # quick reads on the loop thread (WAL: no waiting)
        self._log_counter = 0
        self._pending: set[asyncio.Future[object]] = set()
        self.stopping = asyncio.Event()

    # -- life -----------------------------------------------------------------------------

    async def start(self) -> None:
        self.board.start_writer()
        self._reader = Ledger.open(self.spool.ledger_path, migrate=False)
        interrupted = await self.ledger.run(records.mark_interrupted)
        if interrupted:
            logger.warning(
                "%s call(s) were cut short by a previous stop; marked interrupted", interrupted
            )
        for kept in records.sweep_partial_receptions(self.spool):
            logger.warning("a reception cut short by a previous stop is kept as %s", kept)
        for name in self.config.line_names:
            line = Line(name, self.config, self)
            try:
                await line.open()
            except OSError as exc:
                raise FaxgateError(
                    f"line {name} cannot use UDP port {line.bind_address[1]} on {line.bind_address[0]}: "
                    f"{exc.strerror or exc}"
                ) from exc
            self.lines[name] = line
        await self.control.start()
        logger.info(
            "%d line(s) on UDP %s:%d-%d, trunk %s",
            self.config.count,
            self.config.bind,
            self.config.baseport,
            self.config.baseport + self.config.count - 1,
            self.config.mode.value,
        )

    async def stop(self) -> None:
        """Hang up every call cleanly, release registrations, close sockets."""
        await asyncio.gather(*(line.close() for line in self.lines.values()))
        if self._pending:
            await asyncio.wait(self._pending, timeout=5)
        await self.control.close()
        self.ledger.close()
        if self._reader is not None:
            self._reader.close()
        self.board.stop_writer()
        flush_session_logs()
        for name in self.board.lines:
            self.board.set(name, LineState.DOWN, "down")

    def reload(self) -> None:
        """SIGHUP: take the settings that need no restart (ident, header, ECM)."""
        try:
            settings = load_settings(self.spool)
            config = lines_config(settings)
        except FaxgateError as exc:
            logger.error("settings not reloaded: %s", exc)
            return
        if (config.count, config.bind, config.baseport, config.mode, config.server) != (
            self.config.count,
            self.config.bind,
            self.config.baseport,
            self.config.mode,
            self.config.server,
        ):
            logger.warning(
                "line or trunk settings changed: they take effect when iaxmodemd restarts"
            )
        self.settings = settings
        self.config = config
        for line in self.lines.values():
            line.config = config
        logger.info("settings reloaded")

    # -- control interface ----------------------------------------------------------------

    def dial(self, order: DialOrder) -> None:
        if self.stopping.is_set():
            raise ControlError("iaxmodemd is shutting down")
        if not order.document.is_file():
            raise ControlError(f"the document {order.document} does not exist")
        if self._reader is not None and not records.job_exists(self._reader, order.job):
            raise ControlError(f"job {order.job} is not in the ledger")
        if self._line_with_job(order.job) is not None:
            raise ControlError(f"job {order.job} is already on a line")
        line = self._pick_line(order.line)
        peer = self._destination(line, order.number)
        params = CallParams(
            direction=Direction.OUT,
            line=line.name,
            number=order.number,
            caller_id="",
            job=order.job,
            document=order.document,
            ident=order.ident if order.ident is not None else self.config.ident,
            header=order.header if order.header is not None else (self.config.header or None),
            ecm=self.config.ecm,
        )
        line.dial(params, peer)

    def _pick_line(self, wanted: str | None) -> Line:
        if wanted is not None:
            line = self.lines.get(wanted)
            if line is None:
                raise ControlError(f"there is no line {wanted}")
            if not line.free:
                raise ControlError(f"line {wanted} is busy")
            if not line.registered:
                raise ControlError(f"line {wanted} is not registered with the IAX2 server")
            return line
        for line in self.lines.values():
            # In loopback mode another line must be free to answer.
            loopback = self.config.mode is TrunkMode.LOOPBACK
            if line.free and line.registered and (not loopback or self._answering_line(line)):
                return line
        if any(line.free and not line.registered for line in self.lines.values()):
            raise ControlError("no free line is registered with the IAX2 server")
        raise ControlError("no line is free")

    def _answering_line(self, caller: Line) -> Line | None:
        for line in self.lines.values():
            if line is not caller and line.free:
                return line
        return None

    def _destination(self, line: Line, number: str) -> Address:
        if self.config.mode is TrunkMode.LOOPBACK:
            answering = self._answering_line(line)
            if answering is None:
                raise ControlError("no line is free to answer the loopback call")
            # Kept until the call arrives, or for a while if it never does.
            answering.reserve(LOOPBACK_RESERVATION_SECONDS)
            return answering.address
        if self.config.server is not None:
            return self.config.server
        if line.registered_peer is not None:
            return line.registered_peer
        raise ControlError(
            f"line {line.name} has nowhere to call: no IAX2 server is set and no peer registered"
        )

    def _line_with_job(self, job: int) -> Line | None:
        for line in self.lines.values():
            if line.call is not None and line.call.params.job == job:
                return line
        return None

    def abort(self, job: int) -> None:
        line = self._line_with_job(job)
        if line is None or line.call is None:
            raise ControlError(f"job {job} is not on a line")
        aborted = (Outcome.LOCAL_ERROR, "The fax was stopped (the job was aborted).")
        line.hang_up(line.call, "the job was aborted", aborted)

    def status(self) -> list[dict[str, object]]:
        """The contract's fields, plus `registered` (our registration with the server, where
        there is one) and `peer` (host:port of the IAX2 peer registered to this line, if any)."""
        lines = self.board.snapshot()
        for entry in lines:
            line = self.lines.get(str(entry["line"]))
            if line is not None:
                entry["registered"] = line.registered
                peer = line.registered_peer
                entry["peer"] = f"{peer[0]}:{peer[1]}" if peer else None
        return lines

    def publish(self, event: dict[str, object]) -> None:
        self.control.publish(event)

    # -- what lines report ----------------------------------------------------------------

    def set_status(self, line: str, state: LineState, detail: str, job: int | None = None) -> None:
        if self.board.set(line, state, detail, job):
            self.publish(
                {"event": "line", "line": line, "state": state.value, "detail": detail, "job": job}
            )

    def open_session_log(self, line: str) -> tuple[str, logging.Logger, SessionLog]:
        from faxgate.iaxmodemd.status import open_session_log

        self._log_counter += 1
        name = f"c{time.strftime('%Y%m%d-%H%M%S')}-line{line}-{self._log_counter}"
        session, handler = open_session_log(self.spool, name)
        return name, session, handler

    def start_call_record(self, params: CallParams, session_log: Path) -> asyncio.Future[int]:
        start = records.CallStart(params.direction.value, params.line, params.number, params.job)
        future = self.ledger.run(records.start_call, start, session_log)
        self._track(future)
        return future  # type: ignore[return-value]

    def _track(self, future: asyncio.Future[object]) -> None:
        self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: asyncio.Future[object]) -> None:
        self._pending.discard(future)
        if not future.cancelled() and future.exception() is not None:
            logger.error("ledger write failed: %s", future.exception())

    def call_finished(
        self, line: Line, call: LineCall, end: records.CallEnd, report: CallReport | None
    ) -> None:
        """Write the call's result (and a received fax) in order, then tell subscribers."""
        task = asyncio.ensure_future(self._record_end(line, call, end, report))
        self._track(task)  # type: ignore[arg-type]

    async def _record_end(
        self, line: Line, call: LineCall, end: records.CallEnd, report: CallReport | None
    ) -> None:
        try:
            call_id = await call.ledger_id if call.ledger_id is not None else None
        except Exception as exc:
            logger.error("line %s: the call's ledger row could not be written: %s", line.name, exc)
            call_id = None
        if call_id is not None:
            await self._end_call_row(line, call_id, end)
        event: dict[str, object] = {
            "event": "result",
            "line": line.name,
            "job": call.params.job,
            "call": call_id,
            "direction": call.params.direction.value,
            "outcome": end.outcome,
            "message": end.message,
            "pages": end.pages,
            "frames_sent": call.frames_sent,
            "frames_late": call.frames_late,
        }
        self.publish(event)
        if call.params.direction is Direction.IN:
            await self._store_received(line, call, end, report)
        if call.session_log is not None and call.session_handler is not None:
            assert isinstance(call.session_handler, SessionLog)
            close_session_log(call.session_log, call.session_handler)

    async def _end_call_row(self, line: Line, call_id: int, end: records.CallEnd) -> None:
        """Complete the call's row, retrying a busy or full ledger for a while. Never raises:
        whatever happens here, a received fax must still be stored and the session log closed
        (a row left 'active' is settled by faxqueued as an interrupted call)."""
        for attempt in range(END_CALL_ATTEMPTS):
            try:
                await self.ledger.run(records.end_call, call_id, end)
                return
            except Exception as exc:
                logger.error(
                    "line %s: the end of call %d could not be recorded (try %d): %s",
                    line.name, call_id, attempt + 1, exc,
                )  # fmt: skip
                await asyncio.sleep(END_CALL_RETRY_S * (attempt + 1))

    async def _store_received(
        self, line: Line, call: LineCall, end: records.CallEnd, report: CallReport | None
    ) -> None:
        partial = call.params.document
        try:
            if report is None or report.pages == 0 or not partial.exists():
                return
            fax = records.ReceivedFax(
                dnid=call.params.number,
                caller_id=call.params.caller_id,
                remote_ident=report.remote_ident,
                pages=report.pages,
                line=line.name,
                bit_rate=report.bit_rate or None,
                ecm=report.ecm,
                duration=report.line_seconds,
            )
            spool = self.spool
            path = await self.ledger.run(
                lambda ledger, p=partial, f=fax: records.store_received(ledger, spool, p, f)
            )
            logger.info(
                "line %s: received %d page(s) for %r into %s", line.name, fax.pages, fax.dnid, path
            )
            self.publish(
                {
                    "event": "received",
                    "line": line.name,
                    "path": str(path),
                    "dnid": fax.dnid,
                    "pages": fax.pages,
                    "remote_ident": fax.remote_ident,
                }
            )
        except Exception as exc:
            kept = records.keep_in_bad(self.spool, partial)
            logger.error(
                "line %s: the received fax could not be stored (%s); kept as %s",
                line.name, exc, kept,
            )  # fmt: skip
        finally:
            # Only a reception with no page ends up here still in tmp/: nothing to keep.
            with contextlib.suppress(OSError):
                partial.unlink()
