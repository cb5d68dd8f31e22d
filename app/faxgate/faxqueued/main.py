"""`python -m faxgate faxqueued`: the fax queue daemon.

Reloads its settings on SIGHUP, stops cleanly on SIGTERM/SIGINT. Invalid settings at start are
one clear log line and exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from faxgate.errors import FaxgateError
from faxgate.faxqueued.service import Service
from faxgate.settings import Settings, load_settings
from faxgate.spool.layout import Spool

log = logging.getLogger("faxqueued")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="faxqueued", description="the faxgate fax queue")
    parser.parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s"
        )
    spool = Spool.from_environment()
    try:
        spool.ensure()
        settings = load_settings(spool)
    except FaxgateError as exc:
        log.error("cannot start: %s", exc)
        return 1
    return asyncio.run(_serve(spool, settings))


async def _serve(spool: Spool, settings: Settings) -> int:
    service = Service(spool, settings)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, service.stop)
    loop.add_signal_handler(signal.SIGINT, service.stop)
    loop.add_signal_handler(signal.SIGHUP, service.reload)
    await service.run()
    return 0
