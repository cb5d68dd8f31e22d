"""The appliance's real programs on a temp spool, for the fault tests (test helper).

`Appliance(root)` initialises a spool with `python -m faxgate init` and starts programs with
`python -m faxgate <program>` as subprocesses, their settings given as FAXGATE_SYS_FAX_CONFIGURE_*
environment overrides. Ports come from 46000-46999 (the range reserved for these tests), all on
127.0.0.1. Every program started is stopped by `close()`, by its own process id.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

REPO = Path(__file__).resolve().parents[2]
PORTS = range(46000, 47000)
_taken: set[int] = set()


def free_port(udp_block: int = 0) -> int:
    """A TCP port (or the first of `udp_block` consecutive UDP ports) free in 46000-46999."""
    for _ in range(500):
        port = random.choice(PORTS[: len(PORTS) - max(udp_block, 1)])
        wanted = range(port, port + max(udp_block, 1))
        if any(p in _taken for p in wanted):
            continue
        try:
            for p in wanted:
                kind = socket.SOCK_DGRAM if udp_block else socket.SOCK_STREAM
                with socket.socket(socket.AF_INET, kind) as probe:
                    probe.bind(("127.0.0.1", p))
        except OSError:
            continue
        _taken.update(wanted)
        return port
    raise RuntimeError("no free port in 46000-46999")


def wait_for_tcp(
    port: int, process: subprocess.Popen[bytes], log: Path, seconds: float = 40
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"exited with {process.returncode}:\n{log.read_text(errors='replace')}"
            )
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}:\n{log.read_text(errors='replace')}")


@dataclass
class Program:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    port: int = 0

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> int | None:
        """SIGTERM to the program's process group (gunicorn workers follow), SIGKILL after 10 s."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode


PORT_SETTINGS = {"smtpfaxd": "smtp", "ippfaxd": "ipp", "faxadmin": "admin"}


@dataclass
class Appliance:
    """A spool and the programs started on it."""

    root: Path
    settings: dict[str, str] = field(default_factory=dict)
    programs: list[Program] = field(default_factory=list)
    admin_password: str = ""
    log_dir: Path | None = None  # default: root (give another place when root may fill up)

    def __post_init__(self) -> None:
        self.spool = Spool(self.root / "spool")
        result = subprocess.run(
            [sys.executable, "-m", "faxgate", "init"], env=self.environment(), cwd=self.root,
            capture_output=True, text=True, timeout=120, check=True,
        )  # fmt: skip
        found = re.search(r"password (\S+)", result.stdout)
        self.admin_password = (
            found[1] if found else (self.spool.etc / "admin-password").read_text().strip()
        )

    def environment(self, **settings: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FAXGATE_")}
        env["FAXGATE_SPOOL"] = str(self.root / "spool")
        env["PYTHONUNBUFFERED"] = "1"
        # multicast DNS must not leave loopback in tests
        env["FAXGATE_SYS_FAX_CONFIGURE_IPP_DNSSD"] = "false"
        for name, value in {**self.settings, **settings}.items():
            env["FAXGATE_SYS_FAX_CONFIGURE_" + name.upper().replace(".", "_")] = value
        return env

    def start(self, name: str, wait: bool = True, **settings: str) -> Program:
        """Start `python -m faxgate <name>`; TCP programs get a port of their own."""
        port = 0
        if name in PORT_SETTINGS:
            port = free_port()
            prefix = PORT_SETTINGS[name]
            settings = {f"{prefix}_port": str(port), f"{prefix}_bind": "127.0.0.1", **settings}
        log_path = (self.log_dir or self.root) / f"{name}-{len(self.programs)}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "faxgate", name], env=self.environment(**settings),
                cwd=self.root, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        program = Program(name, process, log_path, port)
        self.programs.append(program)
        if wait and port:
            wait_for_tcp(port, process, log_path)
        return program

    def ledger(self) -> Ledger:
        return Ledger.open(self.spool.ledger_path, migrate=False)

    def count(self, sql: str, *args: object) -> int:
        with self.ledger() as ledger:
            row = ledger.query_one(sql, args)
            return int(row[0]) if row else 0

    def logs(self) -> str:
        return "\n".join(program.log() for program in self.programs)

    def close(self) -> None:
        for program in reversed(self.programs):
            program.stop()
