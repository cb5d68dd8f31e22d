"""Starting a real smtpfaxd process on loopback, on its own spool and port (test helper)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

REPO = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Daemon:
    """A running smtpfaxd."""

    process: subprocess.Popen[bytes]
    spool: Spool
    port: int
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def submissions(self) -> list[dict[str, object]]:
        with Ledger.open(self.spool.ledger_path, migrate=False) as ledger:
            return [dict(row) for row in ledger.query("SELECT * FROM submissions ORDER BY id")]

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_smtpfaxd(spool: Spool, log_path: Path, **settings: str) -> Daemon:
    """Start smtpfaxd with settings given as environment overrides (e.g. smtp_maxsize="1")."""
    port = free_port()
    env = dict(os.environ)
    env["FAXGATE_SPOOL"] = str(spool.root)
    env["FAXGATE_SYS_FAX_CONFIGURE_SMTP_PORT"] = str(port)
    env["FAXGATE_SYS_FAX_CONFIGURE_SMTP_BIND"] = "127.0.0.1"
    for name, value in settings.items():
        env["FAXGATE_SYS_FAX_CONFIGURE_" + name.upper()] = value
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "faxgate", "smtpfaxd"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    daemon = Daemon(process, spool, port, log_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"smtpfaxd exited with {process.returncode}:\n{daemon.log()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return daemon
        except OSError:
            time.sleep(0.1)
    daemon.stop()
    raise RuntimeError(f"smtpfaxd did not listen on {port}:\n{daemon.log()}")
