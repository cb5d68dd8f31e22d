"""The whole appliance (`python -m faxgate run`: supervisord and every program) on loopback."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

PORT_RANGE = (48000, 48999)
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run",
]  # fmt: skip
# The test run keeps its screenshots out of the work tree; `make screenshots` refreshes the ones
# in docs/ on purpose (FAXGATE_UPDATE_SCREENSHOTS=1), so make test leaves the tree unchanged.
SCREENSHOTS = (
    Path(__file__).resolve().parents[3] / "docs" / "screenshots"
    if os.environ.get("FAXGATE_UPDATE_SCREENSHOTS") == "1"
    else Path(tempfile.gettempdir()) / "faxgate-screenshots"
)
LINE_PORTS = 8  # UDP ports kept free for the lines (up to 8 lines in these tests)


def _tcp_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _udp_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_ports() -> tuple[int, int, int, int]:
    """admin, smtp and ipp TCP ports and the first of LINE_PORTS free UDP ports."""
    for _ in range(500):
        base = random.randint(PORT_RANGE[0], PORT_RANGE[1] - LINE_PORTS - 3)
        tcp = [base, base + 1, base + 2]
        udp = list(range(base + 3, base + 3 + LINE_PORTS))
        if all(_tcp_free(p) for p in tcp) and all(_udp_free(p) for p in udp):
            return base, base + 1, base + 2, base + 3
    raise RuntimeError("no free ports in 48000-48999")


@dataclass
class Appliance:
    process: subprocess.Popen[bytes]
    spool: Path
    admin_port: int
    admin_password: str
    log: Path
    ipp_port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    def health(self) -> dict[str, object]:
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=5) as answer:
                value: dict[str, object] = json.load(answer)
        except urllib.error.HTTPError as exc:  # 503 still carries the JSON
            value = json.load(exc)
        return value

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def print_job(port: int, user: str, title: str, postscript: bytes) -> int:
    """Print a PostScript document to the appliance's IPP printer; returns the HTTP status."""
    from faxgate.ipp.codec import Attribute, AttributeGroup, Message, encode_message
    from faxgate.ipp.constants import GroupTag, Operation, ValueTag

    attributes = [
        Attribute.of("attributes-charset", ValueTag.CHARSET, "utf-8"),
        Attribute.of("attributes-natural-language", ValueTag.NATURAL_LANGUAGE, "en"),
        Attribute.of("printer-uri", ValueTag.URI, f"ipp://127.0.0.1:{port}/printers/sendfax"),
        Attribute.of("requesting-user-name", ValueTag.NAME, user),
        Attribute.of("job-name", ValueTag.NAME, title),
        Attribute.of("document-format", ValueTag.MIME_MEDIA_TYPE, "application/postscript"),
    ]
    body = encode_message(
        Message(
            (2, 0),
            Operation.PRINT_JOB,
            1,
            [AttributeGroup(GroupTag.OPERATION, attributes)],
            postscript,
        )
    )
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/printers/sendfax",
        data=body,
        headers={"Content-Type": "application/ipp"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        status: int = answer.status
    return status


def start_appliance(root: Path, password: str = "e2e-admin-pass-1") -> Appliance:  # noqa: S107 -- a throw-away test appliance
    admin, smtp, ipp, lines = free_ports()
    spool = root / "spool"
    log = root / "appliance.log"
    env = {
        **os.environ,
        "FAXGATE_SPOOL": str(spool),
        "FAXGATE_ADMIN_PASSWORD": password,
        "FAXGATE_SYS_FAX_CONFIGURE_ADMIN_PORT": str(admin),
        "FAXGATE_SYS_FAX_CONFIGURE_SMTP_PORT": str(smtp),
        "FAXGATE_SYS_FAX_CONFIGURE_IPP_PORT": str(ipp),
        "FAXGATE_SYS_FAX_CONFIGURE_LINES_BASEPORT": str(lines),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "faxgate", "run"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # supervisord and its programs: one group to stop
    )
    appliance = Appliance(process, spool, admin, password, log, ipp)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the appliance exited: " + log.read_text(errors="replace")[-3000:])
        try:
            health = appliance.health()
            programs = health.get("programs")
            if isinstance(programs, list) and all(p["state"] == "RUNNING" for p in programs):
                return appliance
        except OSError:
            pass
        time.sleep(0.5)
    appliance.stop()
    raise RuntimeError("the appliance did not come up: " + log.read_text(errors="replace")[-3000:])
