"""Both gunicorn services are run with the head-reading worker."""

from __future__ import annotations

from faxgate.faxadmin.main import gunicorn_argv as admin_argv
from faxgate.ippfaxd.main import gunicorn_argv as ipp_argv
from faxgate.settings import load_settings
from faxgate.web.gunicorn_worker import HeadDeadlineWorker

WORKER = f"{HeadDeadlineWorker.__module__}.{HeadDeadlineWorker.__name__}"


def test_ippfaxd_and_faxadmin_use_the_worker() -> None:
    settings = load_settings(environ={})
    for argv in (ipp_argv(settings, workers=2), admin_argv(settings, workers=2, threads=4)):
        assert argv[argv.index("--worker-class") + 1] == WORKER
