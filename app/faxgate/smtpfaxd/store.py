"""Storing accepted mails durably through the spool intake, off the event loop.

Storing fsyncs the file, its directory and the ledger, which takes milliseconds to a second on
a slow disk: it runs in one worker thread (with its own ledger connection) so the SMTP event
loop keeps serving other sessions. The mails that arrive while a store runs are stored
together next (`intake.accept_batch`: one directory fsync and one ledger commit for all of
them; a profile under load showed the store thread busy all the time, half of it in those
fsyncs), and each session hears 250 only when its own mail is durable.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from faxgate.errors import FaxgateError
from faxgate.spool import intake
from faxgate.spool.atomic import DiskFullError
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

log = logging.getLogger("smtpfaxd")

# Mails stored in one batch at most (a batch holds their data in memory until it is written).
MAX_BATCH = 32


class StoreFullError(FaxgateError):
    """No room to store the mail (disk or database full): the client should try later."""


class StoreError(FaxgateError):
    """The mail could not be stored for another reason (the client should try later)."""


class MailStore:
    """Hands raw mails to `intake.accept_batch` in a dedicated thread, in batches."""

    def __init__(self, spool: Spool) -> None:
        self.spool = spool
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="smtpfaxd-store")
        self._ledger: Ledger | None = None  # used only by the executor's thread
        # mails waiting for the store thread, with the future their session awaits
        self._waiting: list[tuple[intake.Pending, asyncio.Future[int]]] = []
        self._lock = threading.Lock()

    def free_bytes(self) -> int:
        return shutil.disk_usage(self.spool.incoming).free

    async def store(self, raw: bytes, params: Mapping[str, object], owner: str | None) -> int:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        with self._lock:
            self._waiting.append((intake.Pending(raw, dict(params), owner), future))
            first = len(self._waiting) == 1
        if first:  # a batch already queued takes this mail along
            loop.run_in_executor(self._executor, self._store_waiting, loop)
        return await future

    def close(self) -> None:
        """Finish the store in progress, then close the ledger in its own thread."""
        self._executor.submit(self._close_ledger).result()
        self._executor.shutdown(wait=True)

    def _close_ledger(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None

    def _store_waiting(self, loop: asyncio.AbstractEventLoop) -> None:
        """Store every mail waiting now, in one batch, and answer each session."""
        with self._lock:
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            more = bool(self._waiting)
        if more:
            loop.call_soon_threadsafe(
                lambda: loop.run_in_executor(self._executor, self._store_waiting, loop)
            )
        try:
            results = self._store_batch([pending for pending, _ in batch])
        except Exception as exc:  # never leave a session waiting for an answer
            log.exception("storing %d mail(s) failed", len(batch))
            results = [StoreError(f"internal error: {exc}")] * len(batch)
        for (_, future), result in zip(batch, results, strict=True):
            loop.call_soon_threadsafe(_settle, future, result)
        if any(isinstance(result, int) for result in results):
            intake.poke(self.spool)

    def _store_batch(self, batch: list[intake.Pending]) -> list[int | Exception]:
        try:
            if self._ledger is None:
                self._ledger = Ledger.open(self.spool.ledger_path)
            batch = [
                intake.Pending(p.data, p.params, p.owner if p.owner is not None else
                               self._user_with_address(str(p.params.get("mail_from") or "")))
                for p in batch
            ]  # fmt: skip
            results = intake.accept_batch(self.spool, self._ledger, "mail", batch)
        except Exception as exc:  # the ledger cannot be opened or read: every mail waits
            results = [exc] * len(batch)
        return [_as_store_result(result) for result in results]

    def _user_with_address(self, address: str) -> str | None:
        """The enabled appliance user whose mail address sent this (owner of the job), if any.

        Mail relayed by the company server carries no login; its envelope sender is as good an
        identity as the allowed networks make it, and lets users see their own mailed faxes.
        """
        if not address or self._ledger is None:
            return None
        row = self._ledger.query_one(
            "SELECT name FROM users WHERE email = ? COLLATE NOCASE AND disabled = 0"
            " ORDER BY id LIMIT 1",
            (address,),
        )
        return str(row["name"]) if row is not None else None


def _settle(future: asyncio.Future[int], result: int | Exception) -> None:
    if future.done():  # the session went away meanwhile
        return
    if isinstance(result, Exception):
        future.set_exception(result)
    else:
        future.set_result(result)


def _as_store_result(result: int | Exception) -> int | Exception:
    """What the SMTP handler understands: an id, StoreFullError (452) or StoreError (451)."""
    if isinstance(result, int):
        return result
    if isinstance(result, DiskFullError):
        return StoreFullError(str(result))
    if isinstance(result, sqlite3.OperationalError):
        if "full" in str(result).lower():
            return StoreFullError(f"the ledger has no room: {result}")
        return StoreError(f"the ledger refused the mail: {result}")
    return StoreError(str(result))


def incoming_files(spool: Spool) -> list[Path]:
    """Mail files in incoming/ (for tests and the admin's view)."""
    return sorted(spool.incoming.glob("mail-*"))
