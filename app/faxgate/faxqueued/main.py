"""`python -m faxgate faxqueued`: the fax queue daemon.

Reloads its settings on SIGHUP, stops cleanly on SIGTERM/SIGINT. Invalid settings at start are
one clear log line and exit status 1.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
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
    service = asyncio.run(_serve(spool, settings))
    # A conversion or an SMTP conversation still running in a worker thread would hold the exit
    # for up to its time limit. Everything they do is durable step by step (a claimed submission
    # goes back to 'new' at the next start, a message stays in the outbox until sent), so the
    # process leaves now instead of joining them.
    if service.in_flight:
        log.info("leaving %d conversions unfinished; they restart next time", service.in_flight)
    logging.shutdown()
    os._exit(0)


async def _serve(spool: Spool, settings: Settings) -> Service:
    service = Service(spool, settings)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, service.stop)
    loop.add_signal_handler(signal.SIGINT, service.stop)
    loop.add_signal_handler(signal.SIGHUP, service.reload)
    await service.run()
    return service
