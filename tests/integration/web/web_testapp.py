"""What the worker tests run under gunicorn (imported by gunicorn through PYTHONPATH): an echo
application and the worker with deadlines short enough for a test."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from faxgate.web.gunicorn_worker import HeadDeadlineWorker

HEADER_TIMEOUT = 2.0
PER_ADDRESS = 4


class QuickWorker(HeadDeadlineWorker):
    header_timeout = HEADER_TIMEOUT
    max_reading_per_address = PER_ADDRESS


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The request as JSON: method, path, its X- headers and the body's length."""
    body = environ["wsgi.input"].read()
    payload = json.dumps({
        "method": environ["REQUEST_METHOD"],
        "path": environ["PATH_INFO"],
        "headers": {k[7:]: v for k, v in environ.items() if k.startswith("HTTP_X_")},
        "body_length": len(body),
    }).encode()  # fmt: skip
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))]
    )
    return [payload]
