"""The spool directory layout: HylaFAX's names with their HylaFAX meaning, plus our own three.

| dir | holds |
|---|---|
| sendq/ | jobs waiting or being sent (per-job files) |
| doneq/ | finished jobs |
| docq/ | converted documents (TIFF class F), shared by the jobs that send them |
| recvq/ | received faxes: faxNNNNNNNN.tif with its PDF and thumbnail |
| log/ | per-call session logs, xferfaxlog, sendfax.log |
| info/ | remote station information |
| status/ | one status line per fax line |
| etc/ | the ledger (SQLite), certificates, admin password, FaxNotify |
| tmp/ | temp files (same file system, for atomic renames) |
| archive/ | archived jobs |
| client/ | client FIFOs (kept for HylaFAX familiarity) |
| mimetype/ | one converter per MIME type |
| incoming/ | raw mails and print jobs accepted but not yet converted |
| outbox/ | outgoing mail waiting for the mail server (and maildir/ when none is set) |
| bad/ | anything that could not be processed, kept for the admin |
"""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from faxgate.errors import SpoolError

DIRECTORIES: tuple[str, ...] = (
    "sendq",
    "doneq",
    "docq",
    "recvq",
    "log",
    "info",
    "status",
    "etc",
    "tmp",
    "archive",
    "client",
    "mimetype",
    "incoming",
    "outbox",
    "bad",
)

# Mode per directory: the spool is private to the fax user and its group; status is readable
# by anyone on the machine like HylaFAX's, nothing is world-writable.
DIRECTORY_MODES: dict[str, int] = {name: 0o750 for name in DIRECTORIES} | {
    "status": 0o755,
    "etc": 0o750,
    "tmp": 0o750,
}

DEFAULT_HOST_SPOOL = Path("var/spool/hylafax")
CONTAINER_SPOOL = Path("/var/spool/hylafax")


@dataclass(frozen=True)
class Spool:
    """A spool rooted at `root`; the attributes name its directories."""

    root: Path

    @classmethod
    def from_environment(cls) -> Spool:
        """The spool named by FAXGATE_SPOOL, else ./var/spool/hylafax (host mode)."""
        value = os.environ.get("FAXGATE_SPOOL")
        return cls(Path(value) if value else DEFAULT_HOST_SPOOL.resolve())

    def dir(self, name: str) -> Path:
        if name not in DIRECTORIES:
            raise SpoolError(f"{name!r} is not a spool directory")
        return self.root / name

    @property
    def sendq(self) -> Path:
        return self.root / "sendq"

    @property
    def doneq(self) -> Path:
        return self.root / "doneq"

    @property
    def docq(self) -> Path:
        return self.root / "docq"

    @property
    def recvq(self) -> Path:
        return self.root / "recvq"

    @property
    def log(self) -> Path:
        return self.root / "log"

    @property
    def info(self) -> Path:
        return self.root / "info"

    @property
    def status(self) -> Path:
        return self.root / "status"

    @property
    def etc(self) -> Path:
        return self.root / "etc"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def archive(self) -> Path:
        return self.root / "archive"

    @property
    def mimetype(self) -> Path:
        return self.root / "mimetype"

    @property
    def incoming(self) -> Path:
        return self.root / "incoming"

    @property
    def outbox(self) -> Path:
        return self.root / "outbox"

    @property
    def bad(self) -> Path:
        return self.root / "bad"

    @property
    def ledger_path(self) -> Path:
        return self.etc / "faxgate.db"

    @property
    def faxqueued_socket(self) -> Path:
        """Datagram socket on which faxqueued takes pokes and commands."""
        return self.root / "faxqueued.sock"

    @property
    def iaxmodemd_socket(self) -> Path:
        """Stream socket of iaxmodemd's control interface."""
        return self.root / "iaxmodemd.sock"

    def stored_candidates(self, stored: str, *folders: Path) -> list[Path]:
        """Where a path the ledger holds may be, in order: as it is when absolute, else relative
        to the spool root, then as a bare name in each of `folders` (received faxes are stored
        as names in recvq/, documents in docq/)."""
        path = Path(stored)
        if path.is_absolute():
            return [path]
        return [self.root / path, *(folder / path for folder in folders)]

    def resolve_stored(self, stored: str, *folders: Path) -> Path:
        """The first candidate that exists, else the spool-relative one."""
        candidates = self.stored_candidates(stored, *folders)
        return next((c for c in candidates if c.exists()), candidates[0])

    def ensure(self, owner: tuple[int, int] | None = None) -> None:
        """Create the missing directories with their modes (and owner, when running as root)."""
        self.root.mkdir(parents=True, exist_ok=True)
        for name in DIRECTORIES:
            path = self.root / name
            path.mkdir(exist_ok=True)
            path.chmod(DIRECTORY_MODES[name])
            if owner is not None:
                os.chown(path, *owner)

    def problems(self) -> list[str]:
        """What is wrong with the layout, in plain words (empty when all is well)."""
        found: list[str] = []
        for name in DIRECTORIES:
            path = self.root / name
            if not path.is_dir():
                found.append(f"{path} is missing")
                continue
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & stat.S_IWOTH:
                found.append(f"{path} is world-writable (mode {mode:o})")
            if not os.access(path, os.W_OK):
                found.append(f"{path} is not writable by this user")
        return found

    def seed_mimetype(self, shipped: Path) -> list[Path]:
        """Copy shipped converters that the spool does not have yet; an admin's own stay untouched."""
        copied: list[Path] = []
        if not shipped.is_dir():
            return copied
        for source in sorted(shipped.rglob("*")):
            if not source.is_file():
                continue
            target = self.mimetype / source.relative_to(shipped)
            if target.exists():
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
            target.chmod(0o755)
            copied.append(target)
        return copied
