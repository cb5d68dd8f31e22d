"""What every request handler needs: the configuration, a ledger per thread, cached settings."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from faxgate.settings import Settings, load_settings, store
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger
from faxgate.supervision.control import tell_programs

TellPrograms = Callable[[Spool, set[str], set[str]], list[str]]

# Settings files and the environment are re-read at most this often. An apply made through any
# worker is seen at once: every read compares the ledger's apply generation with the cached one
# (gunicorn runs several worker processes, and the apply lands in only one of them).
SETTINGS_CACHE_S = 5.0


@dataclass(frozen=True)
class AdminConfig:
    """How one faxadmin instance runs.

    `secure_cookies` marks cookies Secure (set it when the admin is served over TLS, directly
    or behind a TLS proxy). `clock` is injected so tests can move time.
    """

    spool: Spool
    secure_cookies: bool = False
    session_lifetime_s: float = 8 * 3600.0
    config_path: Path | None = None
    environ: Mapping[str, str] | None = None
    clock: Callable[[], float] = time.time
    tell_programs: TellPrograms = tell_programs
    max_upload_bytes: int = 50 * 1024 * 1024
    iaxmodemd_timeout_s: float = 0.5


@dataclass
class AdminState:
    """Shared by every request of one worker process."""

    config: AdminConfig
    _local: threading.local = field(default_factory=threading.local)
    _settings: Settings | None = None
    _settings_at: float = 0.0
    _settings_generation: int = -1
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def spool(self) -> Spool:
        return self.config.spool

    def now(self) -> float:
        return self.config.clock()

    def ledger(self) -> Ledger:
        """This thread's ledger connection (SQLite connections are not shared between threads)."""
        ledger: Ledger | None = getattr(self._local, "ledger", None)
        if ledger is None:
            ledger = Ledger.open(self.spool.ledger_path, migrate=False)
            self._local.ledger = ledger
        return ledger

    def settings(self, fresh: bool = False) -> Settings:
        with self._lock:
            now = time.monotonic()
            applied = store.generation(self.ledger())
            if (
                fresh
                or self._settings is None
                or applied != self._settings_generation
                or now - self._settings_at > SETTINGS_CACHE_S
            ):
                self._settings = load_settings(
                    ledger=self.ledger(),
                    config_path=self.config.config_path,
                    environ=self.config.environ,
                )
                self._settings_at = now
                self._settings_generation = applied
            return self._settings

    def forget_settings(self) -> None:
        with self._lock:
            self._settings = None
