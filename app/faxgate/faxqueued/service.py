"""The faxqueued daemon: intake workers, the scheduler loop, mail and inbound, cleanup.

One asyncio loop; everything slow runs elsewhere:

- intake (interpreters and converters) in a bounded thread pool (queue.workers), each worker with
  its own ledger connection — the scheduler never waits for a conversion;
- notifications, received-fax delivery, the outbox and the cleanup in one background thread;
- the scheduler pass itself only reads and writes a few ledger rows and talks to iaxmodemd.

Pokes on the datagram socket spool/faxqueued.sock wake intake and scheduler; each also runs
every second anyway, so a lost poke costs at most a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from faxgate.faxqueued import inbound, intake, notifications, results, retention
from faxgate.faxqueued.dispatch import (
    DialRefused,
    ModemControl,
    ModemUnavailable,
    OrderUnconfirmed,
)
from faxgate.faxqueued.jobstore import (
    apply_changes,
    mark_dispatched,
    undo_dispatch,
    unfinished_jobs,
)
from faxgate.faxqueued.lines import LineStatus, line_order
from faxgate.faxqueued.scheduling import QueuePolicy, plan
from faxgate.mail.outbox import OutboxRunner, SmtpConfig
from faxgate.settings import Settings, load_settings
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

log = logging.getLogger("faxqueued")

TICK_S = 1.0
MAIL_TICK_S = 1.0
DIAL_REFUSED_RETRY_S = 3.0
DIAL_REFUSED_MAX_S = 300.0


def dial_refused_delay(refusals: int) -> float:
    """Seconds before a refused dial order is tried again. The first refusals are races (the
    line just went busy) and retry at once; a refusal that keeps coming back (a document gone
    from docq, a line that lost its registration) must not fill the log every 3 s until the
    kill time, so the wait doubles up to five minutes."""
    return min(DIAL_REFUSED_RETRY_S * float(2 ** max(0, refusals - 1)), DIAL_REFUSED_MAX_S)


class Service:
    """Wires the rules to the ledger, iaxmodemd and the outbox."""

    def __init__(
        self,
        spool: Spool,
        settings: Settings,
        settings_loader: Callable[[], Settings] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.spool = spool
        self.settings = settings
        self.settings_loader = settings_loader or (lambda: load_settings(spool))
        self.clock = clock
        self.ledger = Ledger.open(spool.ledger_path)
        self.modems = ModemControl(spool.iaxmodemd_socket)
        self.workers = ThreadPoolExecutor(
            max_workers=settings.get_int("sys.fax.configure.queue.workers"),
            thread_name_prefix="intake",
        )
        self.background = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mail")
        # SMTP may wait for timeouts: its own thread, so received faxes are not held up.
        self.smtp = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox")
        self.in_flight = 0
        self.wake = asyncio.Event()
        self.intake_wake = asyncio.Event()
        self.stopping = asyncio.Event()
        self.line_index = 0
        self.refusals: dict[int, int] = {}  # job id -> dial orders refused in a row
        self.tracker = results.LostTracker()
        self.last_lines: list[LineStatus] | None = None
        self._socket: socket.socket | None = None
        self._next_recvq_sweep = 0.0

    # -- start and stop ---------------------------------------------------------------------

    def recover(self) -> None:
        """What a restart after a crash needs before anything else runs."""
        reclaimed = intake.recover_claimed(self.ledger)
        if reclaimed:
            log.info("recovered %d submissions a previous run had claimed", reclaimed)
        notifications.ensure_faxnotify(self.spool)
        retention.mark_started(self.ledger, self.clock())

    async def run(self) -> None:
        self.recover()
        loop = asyncio.get_running_loop()
        self._open_socket(loop)
        tasks = [
            asyncio.create_task(self._intake_loop(), name="intake"),
            asyncio.create_task(self._scheduler_loop(), name="scheduler"),
            asyncio.create_task(self._mail_loop(), name="mail"),
            asyncio.create_task(self._outbox_loop(), name="outbox"),
            asyncio.create_task(self._events_loop(), name="events"),
        ]
        log.info("faxqueued running (spool %s)", self.spool.root)
        await self.stopping.wait()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._close_socket(loop)
        self.workers.shutdown(wait=False, cancel_futures=True)
        self.background.shutdown(wait=True, cancel_futures=True)
        self.smtp.shutdown(wait=False, cancel_futures=True)
        self.ledger.close()
        log.info("faxqueued stopped")

    def stop(self) -> None:
        self.stopping.set()

    def reload(self) -> None:
        try:
            self.settings = self.settings_loader()
            log.info("settings reloaded")
        except Exception as exc:
            log.error("settings not reloaded, keeping the old ones: %s", exc)

    def _open_socket(self, loop: asyncio.AbstractEventLoop) -> None:
        path = self.spool.faxqueued_socket
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(path))
        os.chmod(path, 0o660)
        sock.setblocking(False)
        loop.add_reader(sock.fileno(), self._on_datagram, sock)
        self._socket = sock

    def _close_socket(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._socket is not None:
            loop.remove_reader(self._socket.fileno())
            self._socket.close()
            with contextlib.suppress(FileNotFoundError):
                self.spool.faxqueued_socket.unlink()

    def _on_datagram(self, sock: socket.socket) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            while sock.recv(512):
                self.wake.set()
                self.intake_wake.set()

    # -- loops ------------------------------------------------------------------------------

    @staticmethod
    async def _sleep_or_wake(event: asyncio.Event, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await event.wait()
        event.clear()

    async def _intake_loop(self) -> None:
        loop = asyncio.get_running_loop()
        next_orphan_sweep = 0.0
        while True:
            try:
                if self.in_flight == 0 and intake.has_claims(self.ledger):
                    # Only this loop claims, so with no worker busy a 'working' row is one a
                    # worker could not give back (the ledger was full): it is tried again.
                    intake.recover_claimed(self.ledger)
                capacity = self.settings.get_int("sys.fax.configure.queue.workers") - self.in_flight
                for submission in intake.claim(self.ledger, capacity):
                    self.in_flight += 1
                    future = loop.run_in_executor(
                        self.workers, intake.process, self.spool, self.settings, submission
                    )
                    future.add_done_callback(self._intake_done)
                if self.clock() >= next_orphan_sweep:
                    next_orphan_sweep = self.clock() + 60
                    intake.sweep_orphans(self.spool, self.settings, self.ledger)
            except Exception:
                log.exception("intake pass failed; trying again")
            await self._sleep_or_wake(self.intake_wake, TICK_S)

    def _intake_done(self, future: asyncio.Future[str]) -> None:
        self.in_flight -= 1
        if not future.cancelled() and future.exception() is not None:
            log.error("intake worker failed: %s", future.exception())
        self.wake.set()
        self.intake_wake.set()

    async def _scheduler_loop(self) -> None:
        while True:
            try:
                await self.scheduler_pass()
            except Exception:
                log.exception("scheduler pass failed; trying again")
            await self._sleep_or_wake(self.wake, TICK_S)

    async def scheduler_pass(self) -> None:
        now = self.clock()
        policy = QueuePolicy.from_settings(self.settings)
        results.consume_results(self.spool, self.ledger, policy, now)
        try:
            lines: list[LineStatus] | None = await self.modems.status()
        except ModemUnavailable:
            lines = None
        self.last_lines = lines
        results.reconcile(self.ledger, lines, now, self.tracker)
        results.consume_results(self.spool, self.ledger, policy, now)
        jobs = unfinished_jobs(self.ledger)
        all_lines = line_order(lines) if lines else []
        free = self._usable_lines(
            lines or [], jobs_active=sum(j.state.value == "active" for j in jobs)
        )
        decision = plan(jobs, all_lines, free, now, self.line_index)
        apply_changes(self.ledger, decision.changes, now)
        self.line_index = decision.next_line_index
        for assignment in decision.assignments:
            await self._dispatch(assignment.job_id, assignment.line, assignment.number, now)

    def _usable_lines(self, lines: list[LineStatus], jobs_active: int) -> list[str]:
        free = [status.line for status in lines if status.free]
        if self.settings.get_str("sys.fax.configure.trunk.mode") == "loopback":
            # In loopback the lines answer each other: keep half of them for receiving.
            cap = max(1, len(lines) // 2) - jobs_active
            free = free[: max(0, cap)]
        return free

    async def _dispatch(self, job_id: int, line: str, number: str, now: float) -> None:
        row = self.ledger.query_one(
            "SELECT d.path FROM jobs j JOIN documents d ON d.id = j.document_id WHERE j.id = ?",
            (job_id,),
        )
        if row is None:
            log.error("job %d has no document; cannot send it", job_id)
            return
        if not mark_dispatched(self.ledger, job_id, line, now):
            return
        document: Path = self.spool.docq / row["path"]
        try:
            await self.modems.dial(
                job_id,
                line,
                number,
                document,
                self.settings.get_str("sys.fax.configure.station.ident"),
                self.settings.get_str("sys.fax.configure.station.header"),
            )
            log.info("job %d: dialling %s on line %s", job_id, number, line)
            self.refusals.pop(job_id, None)
        except OrderUnconfirmed as exc:
            # The call may be running: the job stays active and the reconciliation settles it
            # from the calls table (or as interrupted once no line lists it). Undoing it here
            # could dial the same fax twice.
            log.warning("job %d: dial order on line %s unconfirmed: %s", job_id, line, exc)
        except (DialRefused, ModemUnavailable) as exc:
            if len(self.refusals) > 10_000:  # jobs cancelled while refused leave entries
                self.refusals.clear()
            refusals = self.refusals[job_id] = self.refusals.get(job_id, 0) + 1
            delay = dial_refused_delay(refusals)
            log.warning(
                "job %d: dial order on line %s not taken (%d in a row, next try in %.0f s): %s",
                job_id, line, refusals, delay, exc,
            )  # fmt: skip
            undo_dispatch(self.ledger, job_id, now, now + delay, str(exc))

    async def _mail_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                await loop.run_in_executor(self.background, self.mail_pass)
            except Exception:
                log.exception("mail pass failed; trying again")
            await asyncio.sleep(MAIL_TICK_S)

    def mail_pass(self) -> None:
        """Notifications, received faxes and the cleanup (background thread)."""
        settings = self.settings
        with Ledger.open(self.spool.ledger_path, migrate=False) as ledger:
            notifications.send_owed(self.spool, settings, ledger)
            inbound.deliver_received(self.spool, settings, ledger)
            if self.clock() >= self._next_recvq_sweep:
                self._next_recvq_sweep = self.clock() + 60
                inbound.sweep_unrecorded(self.spool, settings, ledger)
            notifications.send_owed(self.spool, settings, ledger)  # bad-fax reports
            now = self.clock()
            if retention.cleanup_due(settings, retention.last_run(ledger), now):
                days = settings.get_int("sys.fax.configure.retention.days")
                retention.cleanup(self.spool, ledger, days, now)

    async def _outbox_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                runner = OutboxRunner(self.spool, SmtpConfig.from_settings(self.settings))
                await loop.run_in_executor(self.smtp, runner.run_once, self.clock())
            except Exception:
                log.exception("outbox pass failed; trying again")
            await asyncio.sleep(MAIL_TICK_S)

    async def _events_loop(self) -> None:
        """iaxmodemd's events only wake the scheduler early; the ledger stays the truth."""
        while True:
            try:
                async for _event in self.modems.events():
                    self.wake.set()
            except ModemUnavailable:
                pass
            except Exception:
                log.exception("iaxmodemd event stream failed")
            await asyncio.sleep(5.0)
