"""Handing accepted work from a gateway to faxqueued, durably.

The contract every gateway (smtpfaxd, ippfaxd, the admin upload) follows: `accept()` writes the
data to `incoming/` atomically, then records its `submissions` row; only when it returns may the
gateway answer 250 / successful-ok / 201. Then `poke()` wakes
faxqueued; a lost poke costs at most faxqueued's periodic scan interval.

A crash between the file and the commit leaves a file with no row. `orphaned_files()` finds
them for faxqueued, which moves them to `bad/` and reports them: they were never acknowledged,
so nothing a client was promised is lost.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from faxgate.spool.atomic import fsync_directory, write_atomic
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

SubmissionKind = Literal["mail", "print", "upload"]

EXTENSIONS: dict[str, str] = {"mail": ".eml", "print": ".prn", "upload": ".bin"}


def accept(
    spool: Spool,
    ledger: Ledger,
    kind: SubmissionKind,
    data: bytes | Iterable[bytes],
    params: Mapping[str, object],
    owner: str | None = None,
    link: Callable[[sqlite3.Connection, int], None] | None = None,
) -> int:
    """Store a submission durably and return its id. Raises DiskFullError/SpoolError when it cannot.

    `link(conn, submission_id)` runs inside the transaction that records the submission, so a
    gateway's own bookkeeping (the IPP job it answers for) commits with it or not at all: a
    client that retries after an error cannot make a second fax.
    """
    name = _new_name(kind)
    path = spool.incoming / name
    # The data — possibly a slow upload from the network — is written before the ledger's write
    # lock is taken: holding the lock while a client trickles its document would stall every
    # other writer. A crash between the two leaves a file without a row; faxqueued moves such
    # orphans to bad/ and reports them (they were never acknowledged).
    write_atomic(path, data, tmp_dir=spool.tmp)
    now = time.time()
    try:
        with ledger.transaction() as conn:
            submission_id = _insert(conn, kind, name, params, owner, now)
            if link is not None:
                link(conn, submission_id)
    except BaseException:
        # No row, so nobody will look for the file: it goes too.
        path.unlink(missing_ok=True)
        raise
    return submission_id


def _new_name(kind: SubmissionKind) -> str:
    return f"{kind}-{time.strftime('%Y%m%d%H%M%S')}-{secrets.token_hex(6)}{EXTENSIONS[kind]}"


def _insert(
    conn: sqlite3.Connection,
    kind: SubmissionKind,
    name: str,
    params: Mapping[str, object],
    owner: str | None,
    now: float,
) -> int:
    """The submission row for the file `name` in incoming/; returns its id."""
    cursor = conn.execute(
        "INSERT INTO submissions (kind, path, params, owner, state, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, 'new', ?, ?)",
        (kind, name, json.dumps(dict(params), sort_keys=True), owner, now, now),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


@dataclass(frozen=True)
class Pending:
    """One submission of a batch for `accept_batch`."""

    data: bytes
    params: Mapping[str, object]
    owner: str | None = None


def accept_batch(
    spool: Spool, ledger: Ledger, kind: SubmissionKind, batch: Sequence[Pending]
) -> list[int | Exception]:
    """`accept` for several submissions with one directory fsync and one ledger commit (group
    commit): per submission its id, or the exception that stopped it. The same promise as
    `accept`: an id is returned only once its file and row are durable."""
    results: list[int | Exception] = []
    written: dict[int, str] = {}
    for index, pending in enumerate(batch):
        name = _new_name(kind)
        try:
            write_atomic(spool.incoming / name, pending.data, tmp_dir=spool.tmp, sync_dir=False)
        except Exception as exc:  # this one fails; the others go on
            results.append(exc)
            continue
        written[index] = name
        results.append(0)
    if not written:
        return results
    now = time.time()
    try:
        fsync_directory(spool.incoming)
        with ledger.transaction() as conn:
            for index, name in written.items():
                pending = batch[index]
                results[index] = _insert(conn, kind, name, pending.params, pending.owner, now)
    except Exception as exc:
        for index, name in written.items():
            (spool.incoming / name).unlink(missing_ok=True)
            results[index] = exc
    return results


def poke(spool: Spool) -> bool:
    """Wake faxqueued (best effort). Returns False when it is not listening."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        try:
            sock.sendto(b"poke", str(spool.faxqueued_socket))
        except OSError:
            return False
    return True


def orphaned_files(spool: Spool, ledger: Ledger, older_than_seconds: float = 300.0) -> list[Path]:
    """Files in incoming/ with no submission row (a writer crashed before its commit)."""
    known = {row[0] for row in ledger.query("SELECT path FROM submissions")}
    cutoff = time.time() - older_than_seconds
    found: list[Path] = []
    for entry in spool.incoming.iterdir():
        if entry.name.startswith(".") or entry.name in known:
            continue
        with contextlib.suppress(FileNotFoundError):
            if entry.stat().st_mtime < cutoff:
                found.append(entry)
    return found
