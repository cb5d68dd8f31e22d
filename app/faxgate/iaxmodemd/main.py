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
# The audio clocks are real time. Like Asterisk's -p, iaxmodemd asks for the lowest real-time
# priority (SCHED_RR 1) when the system allows it (root or CAP_SYS_NICE): a busy machine then
# no longer delays its 20 ms frames (bench/lines.py: 60 calls went from about 1 % late frames
# to under 0.01 %). The kernel's real-time throttling keeps 5 % of every core for other tasks,
# and iaxmodemd is one thread using well under a core, so it cannot starve the machine.
# Without that right it takes niceness -10, and failing that runs as it is.
REALTIME_PRIORITY = 1
AUDIO_NICENESS = -10


def raise_priority() -> None:
    """Real-time round-robin priority if allowed, else a better niceness, else nothing."""
    try:
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(REALTIME_PRIORITY))
        logger.info(
            "running at real-time priority (SCHED_RR %d) for the audio clocks", REALTIME_PRIORITY
        )
        return
    except (OSError, AttributeError):
        pass
    try:
        if os.getpriority(os.PRIO_PROCESS, 0) == 0:
            os.setpriority(os.PRIO_PROCESS, 0, AUDIO_NICENESS)
            logger.info("running at niceness %d for the audio clocks", AUDIO_NICENESS)
    except OSError:
        logger.info("running at normal priority (not allowed to raise it)")


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
