"""gunicorn configuration hooks for ippfaxd (loaded with `--config python:...`).

The master configures logging (one line per event on stderr, inherited by the workers) and
runs the DNS-SD advertiser for as long as it serves.
"""

from __future__ import annotations

import logging
import socket
import sys
from typing import Any

from faxgate.ippfaxd.dnssd import Advertisement, Advertiser
from faxgate.settings import load_settings
from faxgate.spool.layout import Spool

_advertiser: Advertiser | None = None


def on_starting(server: Any) -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO,
            format="%(asctime)s %(name)s %(levelname)s %(message)s",
            stream=sys.stderr,
        )


def when_ready(server: Any) -> None:
    try:
        _start_advertising()
    except Exception:  # advertising is a convenience: never stop the printer for it
        logging.getLogger("ippfaxd").exception("DNS-SD advertising failed")


def _start_advertising() -> None:
    global _advertiser
    spool = Spool.from_environment()
    spool.ensure()
    settings = load_settings(spool)
    if not settings.get_bool("sys.fax.configure.ipp.dnssd"):
        return
    from faxgate.ippfaxd.app import printer_config

    config = printer_config(spool, settings)
    ad = Advertisement(
        name=config.name,
        port=settings.get_int("sys.fax.configure.ipp.port"),
        uuid=config.uuid,
        admin_url=config.more_info or f"http://{socket.gethostname()}:{config.admin_port}/",
        location=config.location,
    )
    _advertiser = Advertiser(ad)
    _advertiser.start()


def on_exit(server: Any) -> None:
    if _advertiser is not None:
        _advertiser.stop()
