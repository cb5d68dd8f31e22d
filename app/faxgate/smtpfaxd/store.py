"""Storing an accepted mail durably through the spool intake, off the event loop.

`accept()` fsyncs the file and commits the submission row, which takes milliseconds to a second
on a slow disk: it runs in one worker thread (with its own ledger connection) so the SMTP event
loop keeps serving other sessions. One thread also means stores happen one at a time, which
makes cleaning up after a failed store exact (see `_remove_unrecorded`).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import sqlite3
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from faxgate.errors import FaxgateError, LedgerError, SpoolError
from faxgate.spool import intake
from faxgate.spool.atomic import DiskFullError
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

log = logging.getLogger("smtpfaxd")


class StoreFullError(FaxgateError):
    """No room to store the mail (disk or database full): the client should try later."""


class StoreError(FaxgateError):
    """The mail could not be stored for another reason (the client should try later)."""


class MailStore:
    """Hands raw mails to `intake.accept` in a dedicated thread."""

    def __init__(self, spool: Spool) -> None:
        self.spool = spool
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="smtpfaxd-store")
        self._ledger: Ledger | None = None  # used only by the executor's thread

    def free_bytes(self) -> int:
        return shutil.disk_usage(self.spool.incoming).free

    async def store(self, raw: bytes, params: Mapping[str, object], owner: str | None) -> int:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._store, raw, dict(params), owner)

    def close(self) -> None:
        """Finish the store in progress, then close the ledger in its own thread."""
        self._executor.submit(self._close_ledger).result()
        self._executor.shutdown(wait=True)

    def _close_ledger(self) -> None:
        if self._ledger is not None:
            self._ledger.close()
            self._ledger = None

    def _store(self, raw: bytes, params: dict[str, object], owner: str | None) -> int:
        started = time.time()
        try:
            if self._ledger is None:
                self._ledger = Ledger.open(self.spool.ledger_path)
            if owner is None:
                owner = self._user_with_address(str(params.get("mail_from") or ""))
            submission = intake.accept(self.spool, self._ledger, "mail", raw, params, owner)
        except DiskFullError as exc:
            self._remove_unrecorded(started)
            raise StoreFullError(str(exc)) from exc
        except sqlite3.OperationalError as exc:
            self._remove_unrecorded(started)
            if "full" in str(exc).lower():
                raise StoreFullError(f"the ledger has no room: {exc}") from exc
            raise StoreError(f"the ledger refused the mail: {exc}") from exc
        except (SpoolError, LedgerError, OSError, sqlite3.Error) as exc:
            self._remove_unrecorded(started)
            raise StoreError(str(exc)) from exc
        intake.poke(self.spool)
        return submission

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

    def _remove_unrecorded(self, since: float) -> None:
        """Delete mail files this failed store wrote without a ledger row (COMMIT failed)."""
        if self._ledger is None:
            return
        try:
            known = {row[0] for row in self._ledger.query("SELECT path FROM submissions")}
        except sqlite3.Error:
            return  # the ledger is unusable; faxqueued's orphan sweep deals with leftovers
        for entry in self.spool.incoming.glob("mail-*"):
            try:
                if entry.name not in known and entry.stat().st_mtime >= since - 1:
                    entry.unlink()
                    log.warning("removed %s: its store failed before it was recorded", entry.name)
            except FileNotFoundError:
                continue


def incoming_files(spool: Spool) -> list[Path]:
    """Mail files in incoming/ (for tests and the admin's view)."""
    return sorted(spool.incoming.glob("mail-*"))
