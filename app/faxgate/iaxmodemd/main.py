"""`python -m faxgate iaxmodemd`: run the virtual fax lines until SIGTERM.

SIGHUP reloads the settings (ident, header, ECM; line and trunk changes need a restart),
SIGTERM/SIGINT hang up every call, release registrations and exit within a few seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import signal
import time

from faxgate.errors import FaxgateError
from faxgate.iaxmodemd.daemon import Daemon
from faxgate.settings import load_settings
from faxgate.spool.layout import Spool

logger = logging.getLogger("iaxmodemd")

STOP_TIMEOUT_SECONDS = 5.0
GC_INTERVAL_SECONDS = 5.0
GC_YOUNG_LIMIT = 200_000  # container objects allocated since the last collection
# The audio clocks are real time: like Asterisk's -p, take a better scheduling priority when the
# system allows it, so a busy machine delays our 20 ms frames less. Never SCHED_FIFO/RR: a
# Python loop at real-time priority could starve the whole machine when overloaded.
AUDIO_NICENESS = -10


def tune_garbage_collector() -> None:
    """Keep the cyclic garbage collector from pausing the audio clocks.

    A collection walks the objects of its generations (tens of milliseconds with numpy and the
    whole package loaded), which made 20 ms frames late. Objects that exist after start-up live
    as long as the process: they are frozen out of the collector's view. Automatic collection
    is then off; `collect_garbage` runs it while no call is up, or when young objects pile up
    past a bound (the audio path frees almost everything by reference counting).
    """
    gc.collect()
    gc.freeze()
    gc.disable()


async def collect_garbage(daemon: Daemon) -> None:
    """Collect cycles every few seconds, when it cannot delay audio or memory demands it."""
    while True:
        await asyncio.sleep(GC_INTERVAL_SECONDS)
        busy = any(line.call is not None for line in daemon.lines.values())
        young = gc.get_count()[0]
        started = time.monotonic()
        if not busy:
            gc.collect()
        elif young > GC_YOUNG_LIMIT:
            gc.collect(1)
        else:
            continue
        logger.debug(
            "garbage collection (%d young objects, calls up: %s) took %.1f ms",
            young,
            busy,
            1000 * (time.monotonic() - started),
        )


def raise_priority() -> None:
    """Run at AUDIO_NICENESS if we may and nobody chose a niceness for us already."""
    try:
        if os.getpriority(os.PRIO_PROCESS, 0) == 0:
            os.setpriority(os.PRIO_PROCESS, 0, AUDIO_NICENESS)
            logger.info("running at niceness %d for the audio clocks", AUDIO_NICENESS)
    except OSError:
        logger.info("running at normal priority (not allowed to raise it)")


async def serve(spool: Spool) -> int:
    settings = load_settings(spool)
    daemon = Daemon(spool, settings)
    loop = asyncio.get_running_loop()
    loop.slow_callback_duration = 0.005  # with PYTHONASYNCIODEBUG=1: what blocks the audio clocks
    loop.add_signal_handler(signal.SIGTERM, daemon.stopping.set)
    loop.add_signal_handler(signal.SIGINT, daemon.stopping.set)
    loop.add_signal_handler(signal.SIGHUP, daemon.reload)
    try:
        await daemon.start()
        tune_garbage_collector()
        collector = asyncio.ensure_future(collect_garbage(daemon))
        await daemon.stopping.wait()
        collector.cancel()
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
    raise_priority()
    spool = Spool.from_environment()
    if problems := spool.problems():
        raise FaxgateError("the spool is not usable: " + "; ".join(problems))
    return asyncio.run(serve(spool))
