"""`python -m faxgate ippfaxd`: run the printer under gunicorn (bind and port from the settings)."""

from __future__ import annotations

import argparse
import os
import sys

from faxgate.settings import Settings, load_settings
from faxgate.spool.layout import Spool

APP = "faxgate.ippfaxd.app:get_app()"
HOOKS = "python:faxgate.ippfaxd.gunicorn_hooks"
WORKER = "faxgate.web.gunicorn_worker.HeadDeadlineWorker"


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def gunicorn_argv(settings: Settings, workers: int) -> list[str]:
    """The gunicorn command line for these settings."""
    address = bind_address(
        settings.get_str("sys.fax.configure.ipp.bind"),
        settings.get_int("sys.fax.configure.ipp.port"),
    )
    return [
        sys.executable, "-m", "gunicorn",
        "--bind", address,
        "--workers", str(workers),
        # gthread, not sync: ipptool and CUPS keep connections open, and gunicorn 27's sync
        # worker then sits in recv() on one idle client until the timeout. Our gthread
        # subclass reads request heads with a deadline, so slow clients hold no thread.
        "--worker-class", WORKER,
        "--threads", "8",
        "--keep-alive", "5",
        "--timeout", "300",  # a large job over a slow link is one long request
        "--graceful-timeout", "5",
        "--no-control-socket",
        "--config", HOOKS,
        "--error-logfile", "-",
        APP,
    ]  # fmt: skip


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ippfaxd", description="the print-to-fax gateway")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    args = parser.parse_args(argv)
    spool = Spool.from_environment()
    settings = load_settings(spool)  # fail here, with one clear line, on bad settings
    command = gunicorn_argv(settings, args.workers)
    sys.stdout.flush()
    sys.stderr.flush()
    # gunicorn becomes this process: supervisord's SIGTERM/SIGHUP reach it directly.
    os.execv(command[0], command)  # noqa: S606 (an argv list, no shell)
    return 0  # not reached
