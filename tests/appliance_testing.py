"""Helpers for tests that run faxgate's real programs on one spool (importable from every test
folder: pytest puts `tests/` on the path for the conftest beside this file)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

from faxgate.appliance import initialise
from faxgate.spool.layout import Spool


def free_udp_base(count: int) -> int:
    """A base port with `count` free UDP ports after it (lines use base + i - 1)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            base: int = probe.getsockname()[1]
        if base + count >= 65000:
            continue
        held: list[socket.socket] = []
        try:
            for port in range(base, base + count):
                sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                held.append(sock)
                sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            for sock in held:
                sock.close()
        return base
    raise RuntimeError("no free UDP port range")


def wait_for(
    predicate: Callable[[], bool], timeout: float = 60.0, what: str = "", interval: float = 0.5
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what or predicate}")


def maildir(spool: Spool) -> list[EmailMessage]:
    """The mails faxqueued's outbox delivered to its Maildir (no mail server configured)."""
    new = spool.outbox / "maildir" / "new"
    found: list[EmailMessage] = []
    for path in sorted(new.iterdir()) if new.exists() else []:
        message = message_from_bytes(path.read_bytes(), policy=default)
        assert isinstance(message, EmailMessage)
        found.append(message)
    return found


class Programs:
    """faxgate programs (`python -m faxgate NAME`) as real processes on one fresh spool, with
    `lines` loopback lines on free UDP ports and settings as FAXGATE_SYS_FAX_CONFIGURE_*."""

    def __init__(self, tmp_path: Path, lines: int = 2, **settings: str) -> None:
        self.tmp_path = tmp_path
        self.spool = Spool(tmp_path / "spool")
        initialise(self.spool)
        env = {k: v for k, v in os.environ.items() if not k.startswith("FAXGATE_")}
        env["FAXGATE_SPOOL"] = str(self.spool.root)
        env["FAXGATE_SYS_FAX_CONFIGURE_LINES_COUNT"] = str(lines)
        env["FAXGATE_SYS_FAX_CONFIGURE_LINES_BASEPORT"] = str(free_udp_base(lines))
        for name, value in settings.items():
            env["FAXGATE_SYS_FAX_CONFIGURE_" + name.upper()] = value
        self.env = env
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, program: str) -> None:
        with (self.tmp_path / f"{program}.log").open("ab") as log:
            self.procs[program] = subprocess.Popen(
                [sys.executable, "-m", "faxgate", program], env=self.env, stdout=log, stderr=log
            )

    def log(self, program: str) -> str:
        return (self.tmp_path / f"{program}.log").read_text(errors="replace")

    def kill9(self, program: str) -> None:
        proc = self.procs[program]
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            proc.wait(timeout=20)


def stand_in_publisher(directory: Path, script: str) -> dict[str, str]:
    """Put `script` first on PATH as avahi's `avahi-publish-service`; returns the environment
    that makes ippfaxd use it: PATH, and a D-Bus address (the stand-in needs no bus, but
    ippfaxd starts no publisher where there is no system bus)."""
    bin_dir = directory / "bin"
    bin_dir.mkdir()
    publisher = bin_dir / "avahi-publish-service"
    publisher.write_text(script)
    publisher.chmod(0o755)
    return {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={directory}/bus",
    }


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
