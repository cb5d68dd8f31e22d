"""DNS-SD (Bonjour) advertisement of the fax printer, so macOS and Linux find it by themselves.

The record follows the IPP Everywhere / AirPrint conventions: service `_ipp._tcp` with the
subtype `_universal` and TXT keys `rp` (resource path), `pdl` (formats), `UUID`, `ty`, `adminurl`.
Publishing uses avahi's `avahi-publish-service` (it needs a running avahi-daemon on the host);
without it the printer still works by URL and a log line says advertising is off.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from dataclasses import dataclass

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


class Advertiser:
    """Runs the publisher while the printer runs (start/stop from gunicorn's master hooks)."""

    def __init__(self, ad: Advertisement) -> None:
        self.ad = ad
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> bool:
        if shutil.which(PUBLISHER) is None:
            log.info("DNS-SD advertising is off: %s is not installed (avahi-utils)", PUBLISHER)
            return False
        # stderr stays ippfaxd's: avahi's own words ("Established under name ...", or
        # "Daemon not running" when avahi-daemon is absent) are the only sign of how it went.
        self.process = subprocess.Popen(publish_command(self.ad), stdout=subprocess.DEVNULL)
        log.info("advertising %r as %s on port %d", self.ad.name, SERVICE_TYPE, self.ad.port)
        return True

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
