"""The whole appliance under a real supervisord (`python -m faxgate run`) on a temp spool."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from faults_appliance import REPO, free_port, wait_for_tcp

from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger
from faxgate.supervision.control import Supervisor

PROGRAMS = ("iaxmodemd", "faxqueued", "smtpfaxd", "ippfaxd", "faxadmin")


@dataclass
class RunningAppliance:
    root: Path
    lines: int = 8
    settings: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.spool = Spool(self.root / "spool")
        self.smtp_port = free_port()
        self.ipp_port = free_port()
        self.admin_port = free_port()
        self.baseport = free_port(udp_block=self.lines)
        self.log_path = self.root / "appliance.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.last_pids: dict[str, int] = {}

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FAXGATE_")}
        env["FAXGATE_SPOOL"] = str(self.spool.root)
        env["PYTHONUNBUFFERED"] = "1"
        values = {
            "smtp_port": str(self.smtp_port), "ipp_port": str(self.ipp_port),
            "admin_port": str(self.admin_port), "lines_baseport": str(self.baseport),
            "lines_count": str(self.lines), "ipp_dnssd": "false",
            **self.settings,
        }  # fmt: skip
        for name, value in values.items():
            env["FAXGATE_SYS_FAX_CONFIGURE_" + name.upper()] = value
        return env

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "faxgate", "run"], env=self.environment(), cwd=REPO,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        for port in (self.smtp_port, self.ipp_port, self.admin_port):
            wait_for_tcp(port, self.process, self.log_path, seconds=60)
        deadline = time.monotonic() + 60
        while set(self.running()) != set(PROGRAMS):
            assert time.monotonic() < deadline, self.log()[-3000:]
            time.sleep(0.5)

    def running(self) -> dict[str, int]:
        """Program name → pid of the programs supervisord reports RUNNING."""
        try:
            states = Supervisor(self.spool).programs()
        except Exception:
            return {}
        pids = {s.name: s.pid for s in states if s.state == "RUNNING" and s.pid}
        self.last_pids.update(pids)
        return pids

    def kill(self, name: str) -> int | None:
        """SIGKILL one program (the supervised process itself); supervisord restarts it."""
        pid = self.running().get(name)
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return pid

    def ledger(self) -> Ledger:
        return Ledger.open(self.spool.ledger_path, migrate=False)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # supervisord stops its programs first
            try:
                self.process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        for pid in self.last_pids.values():  # anything supervisord left behind, by its pid
            if self.ours(pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)

    def ours(self, pid: int) -> bool:
        """True when `pid` still is a program of this appliance (its spool in its environment):
        a pid of a program that died may meanwhile belong to someone else's process."""
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            return False
        return f"FAXGATE_SPOOL={self.spool.root}".encode() in environ.split(b"\0")
