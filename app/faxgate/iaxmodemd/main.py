"""`python -m faxgate iaxmodemd`: run the virtual fax lines until SIGTERM.

SIGHUP reloads the settings (ident, header, ECM; line and trunk changes need a restart),
SIGTERM/SIGINT hang up every call, release registrations and exit within a few seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

from faxgate.errors import FaxgateError
from faxgate.iaxmodemd.daemon import Daemon
from faxgate.settings import load_settings
from faxgate.spool.layout import Spool

logger = logging.getLogger("iaxmodemd")

STOP_TIMEOUT_SECONDS = 5.0


async def serve(spool: Spool) -> int:
    settings = load_settings(spool)
    daemon = Daemon(spool, settings)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, daemon.stopping.set)
    loop.add_signal_handler(signal.SIGINT, daemon.stopping.set)
    loop.add_signal_handler(signal.SIGHUP, daemon.reload)
    try:
        await daemon.start()
        await daemon.stopping.wait()
        logger.info("stopping: hanging up and releasing the lines")
    finally:
        try:
            await asyncio.wait_for(daemon.stop(), STOP_TIMEOUT_SECONDS)
        except TimeoutError:
            logger.warning("lines did not close within %.0f s", STOP_TIMEOUT_SECONDS)
    logger.info("stopped")
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="faxgate iaxmodemd", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log IAX2 and fax details")
    args = parser.parse_args(argv)
    if args.verbose:
        logger.setLevel(logging.DEBUG)
    spool = Spool.from_environment()
    if problems := spool.problems():
        raise FaxgateError("the spool is not usable: " + "; ".join(problems))
    return asyncio.run(serve(spool))
