"""Atomic file creation: write in a temp file, fsync, rename, fsync the directory.

Every file faxgate creates in the spool goes through here, so a reader never sees a partial file
and a crash (even `kill -9`) leaves either the old state or the complete new file. A temp file that
a killed writer leaves behind is named `.tmp-*` and is swept by `sweep_stale_temps`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from faxgate.errors import SpoolError

TEMP_PREFIX = ".tmp-"


class DiskFullError(SpoolError):
    """The file system has no room (ENOSPC/EDQUOT): a temporary condition for the client."""


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) is the disk or the ledger being full: a temporary
    condition for the client to retry, not a bad request. It comes in several forms: our
    DiskFullError, a raw ENOSPC/EDQUOT from a library, SQLite's "database or disk is full"."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DiskFullError):
            return True
        if isinstance(seen, OSError) and seen.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if isinstance(seen, sqlite3.OperationalError) and "full" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def fsync_directory(directory: Path) -> None:
    """Make a rename or unlink in `directory` durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _raise_meaningful(exc: OSError, path: Path) -> None:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        raise DiskFullError(f"no space left to write {path.name}") from exc
    raise SpoolError(f"cannot write {path}: {exc.strerror or exc}") from exc


@contextlib.contextmanager
def atomic_writer(
    path: Path, mode: int = 0o640, tmp_dir: Path | None = None, sync_dir: bool = True
) -> Iterator[BinaryIO]:
    """Yield a binary file; on clean exit it appears at `path` complete and durable.

    `tmp_dir` must be on the same file system as `path` (default: the target directory).
    On any exception the temp file is removed and `path` is untouched. `sync_dir=False` leaves
    the directory's fsync (what makes the new name durable) to the caller, who writes several
    files and syncs the directory once.
    """
    directory = tmp_dir or path.parent
    tmp = directory / f"{TEMP_PREFIX}{path.name}.{os.getpid()}.{time.monotonic_ns()}"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except OSError as exc:
        _raise_meaningful(exc, path)
    handle = os.fdopen(fd, "wb")
    try:
        try:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            handle.close()
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        if sync_dir:
            fsync_directory(path.parent)
    except OSError as exc:
        _unlink_quietly(tmp)
        _raise_meaningful(exc, path)
    except BaseException:
        _unlink_quietly(tmp)
        raise


def write_atomic(
    path: Path,
    data: bytes | Iterable[bytes],
    mode: int = 0o640,
    tmp_dir: Path | None = None,
    sync_dir: bool = True,
) -> int:
    """Write `data` (bytes or chunks) to `path` atomically; return the number of bytes written."""
    written = 0
    with atomic_writer(path, mode=mode, tmp_dir=tmp_dir, sync_dir=sync_dir) as handle:
        chunks = [data] if isinstance(data, bytes | bytearray | memoryview) else data
        for chunk in chunks:
            handle.write(chunk)
            written += len(chunk)
    return written


def sweep_stale_temps(directory: Path, older_than_seconds: float = 3600.0) -> list[Path]:
    """Remove temp files that a killed writer left in `directory`; return what was removed."""
    removed: list[Path] = []
    cutoff = time.time() - older_than_seconds
    for entry in directory.glob(f"{TEMP_PREFIX}*"):
        with contextlib.suppress(FileNotFoundError):
            if entry.stat().st_mtime < cutoff:
                entry.unlink()
                removed.append(entry)
    return removed


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
