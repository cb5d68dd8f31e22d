"""DNS-SD (Bonjour) advertisement of the fax printer, so macOS and Linux find it by themselves.

The record follows the IPP Everywhere / AirPrint conventions: service `_ipp._tcp` with the
subtype `_universal` and TXT keys `rp` (resource path), `pdl` (formats), `UUID`, `ty`, `adminurl`.
Publishing uses avahi's `avahi-publish-service` (it needs a running avahi-daemon on the host);
without it the printer still works by URL and a log line says advertising is off.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from faxgate.ipp.printer import DOCUMENT_FORMATS

log = logging.getLogger("ippfaxd")

SERVICE_TYPE = "_ipp._tcp"
SUBTYPE = "_universal._sub._ipp._tcp"
PUBLISHER = "avahi-publish-service"


@dataclass(frozen=True)
class Advertisement:
    name: str  # instance name shown to users, e.g. "Fax"
    port: int
    uuid: str  # urn:uuid:... or the bare UUID
    admin_url: str
    location: str = ""
    resource_path: str = "printers/sendfax"


def txt_records(ad: Advertisement) -> list[str]:
    """The TXT record strings, in the order clients expect them (txtvers first)."""
    formats = [fmt for fmt in DOCUMENT_FORMATS if fmt != "application/octet-stream"]
    return [
        "txtvers=1",
        "qtotal=1",
        f"rp={ad.resource_path}",
        f"ty={ad.name}",
        f"note={ad.location}",
        "product=(faxgate print-to-fax gateway)",
        f"pdl={','.join(formats)}",
        f"UUID={ad.uuid.removeprefix('urn:uuid:')}",
        f"adminurl={ad.admin_url}",
        "Color=F",
        "Duplex=F",
        "kind=document",
        "priority=50",
    ]


def publish_command(ad: Advertisement) -> list[str]:
    return [
        PUBLISHER,
        f"--subtype={SUBTYPE}",
        ad.name,
        SERVICE_TYPE,
        str(ad.port),
        *txt_records(ad),
    ]


SYSTEM_BUS_SOCKET = Path("/run/dbus/system_bus_socket")


def system_bus_problem(environ: Mapping[str, str] | None = None) -> str | None:
    """Why avahi cannot be reached, or None. The publisher talks to avahi-daemon over the
    D-Bus system bus; in the container there is none unless the host's socket is mounted in,
    and a publisher started anyway would exit and be restarted every minute for nothing."""
    env = os.environ if environ is None else environ
    if env.get("DBUS_SYSTEM_BUS_ADDRESS") or SYSTEM_BUS_SOCKET.exists():
        return None
    return (
        f"no D-Bus system bus at {SYSTEM_BUS_SOCKET} (in the container: run it with "
        f"--network host and the host's {SYSTEM_BUS_SOCKET} mounted at the same path)"
    )


class Advertiser:
    """Runs the publisher while the printer runs (start/stop from gunicorn's master hooks).

    avahi-publish-service exits when avahi-daemon restarts (an upgrade, a crash), and the
    printer would stay unannounced until ippfaxd restarts. A supervising thread starts it
    again, waiting `first_delay` seconds, doubling up to `max_delay` while it keeps exiting
    (avahi-daemon down for a while), and from `first_delay` again once it ran `max_delay`.
    """

    def __init__(
        self, ad: Advertisement, first_delay: float = 1.0, max_delay: float = 60.0
    ) -> None:
        self.ad = ad
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._stopping = threading.Event()
        # Held while starting a publisher and by stop(): no publisher starts once stop() began.
        self._lock = threading.Lock()
        self._supervisor: threading.Thread | None = None

    def start(self) -> bool:
        if shutil.which(PUBLISHER) is None:
            log.info("DNS-SD advertising is off: %s is not installed (avahi-utils)", PUBLISHER)
            return False
        problem = system_bus_problem()
        if problem is not None:
            log.info("DNS-SD advertising is off: %s", problem)
            return False
        self._stopping.clear()
        self._launch()
        log.info("advertising %r as %s on port %d", self.ad.name, SERVICE_TYPE, self.ad.port)
        self._supervisor = threading.Thread(
            target=self._supervise, name="dnssd-publisher", daemon=True
        )
        self._supervisor.start()
        return True

    def _launch(self) -> subprocess.Popen[bytes] | None:
        """A new publisher, unless stop() has begun (then None)."""
        with self._lock:
            if self._stopping.is_set():
                return None
            # stderr stays ippfaxd's: avahi's own words ("Established under name ...", or
            # "Daemon not running" when avahi-daemon is absent) are the only sign of how it went.
            self.process = subprocess.Popen(publish_command(self.ad), stdout=subprocess.DEVNULL)
            return self.process

    def _supervise(self) -> None:
        delay = self.first_delay
        process = self.process
        while process is not None:
            began = time.monotonic()
            status = process.wait()
            if time.monotonic() - began >= self.max_delay:
                delay = self.first_delay  # it ran a good while: this is a new failure
            if self._stopping.wait(delay):
                return
            self.restarts += 1
            log.warning(
                "DNS-SD publisher exited (status %s); starting it again after %g s (restart %d)",
                status, delay, self.restarts,
            )  # fmt: skip
            delay = min(delay * 2, self.max_delay)
            process = self._relaunch()

    def _relaunch(self) -> subprocess.Popen[bytes] | None:
        try:
            return self._launch()
        except OSError as exc:  # e.g. avahi-utils removed meanwhile: advertising ends here
            log.error("DNS-SD advertising is off: %s could not be started: %s", PUBLISHER, exc)
            return None

    def stop(self) -> None:
        with self._lock:
            self._stopping.set()
            process = self.process
        if process is not None:
            _end(process)
        if self._supervisor is not None:
            self._supervisor.join()
            self._supervisor = None
        self.process = None


def _end(process: subprocess.Popen[bytes]) -> None:
    """Terminate a publisher and reap it (killed if it does not go within 3 s)."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=3)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
