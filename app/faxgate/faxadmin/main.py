"""`python -m faxgate faxadmin`: run the web admin under gunicorn (bind and port from settings)."""

from __future__ import annotations

import argparse
import os
import sys

from faxgate.settings import Settings, load_settings
from faxgate.spool.layout import Spool

APP = "faxgate.faxadmin.app:get_app()"
WORKER = "faxgate.web.gunicorn_worker.HeadDeadlineWorker"


def bind_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def gunicorn_argv(
    settings: Settings, workers: int, threads: int, bind: str | None = None
) -> list[str]:
    """The gunicorn command line for these settings (threads: the dashboard poll must not wait
    behind an upload)."""
    address = bind or bind_address(
        settings.get_str("sys.fax.configure.admin.bind"),
        settings.get_int("sys.fax.configure.admin.port"),
    )
    return [
        sys.executable, "-m", "gunicorn",
        "--bind", address,
        "--workers", str(workers),
        # gthread reading request heads with a deadline: slow clients hold no thread
        "--worker-class", WORKER,
        "--threads", str(threads),
        "--timeout", "120",
        "--graceful-timeout", "5",
        "--no-control-socket",
        "--error-logfile", "-",
        "--name", "faxadmin",
        APP,
    ]  # fmt: skip


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="faxadmin", description="the web admin and REST API")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker")
    parser.add_argument("--bind", help="host:port instead of sys.fax.configure.admin.bind/port")
    args = parser.parse_args(argv)
    spool = Spool.from_environment()
    settings = load_settings(spool)  # fail here, with one clear line, on bad settings
    command = gunicorn_argv(settings, args.workers, args.threads, args.bind)
    sys.stdout.flush()
    sys.stderr.flush()
    # gunicorn becomes this process: supervisord's SIGTERM/SIGHUP reach it directly.
    os.execv(command[0], command)  # noqa: S606 (an argv list, no shell)
    return 0  # not reached
