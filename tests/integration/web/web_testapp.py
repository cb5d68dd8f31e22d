"""What the worker tests run under gunicorn (imported by gunicorn through PYTHONPATH): an echo
application (and a falcon one) and the worker with deadlines short enough for a test."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

import falcon

from faxgate.web.body_rate import RateLimit
from faxgate.web.gunicorn_worker import HeadDeadlineWorker

HEADER_TIMEOUT = 2.0
PER_ADDRESS = 4
# RateWorker: 1 s of grace, then 100 B/s; no single wait over 2 s.
BODY_RATE = RateLimit(grace=1.0, min_rate=100.0, idle=2.0)
SEND_RATE = RateLimit(grace=1.0, min_rate=100.0, idle=2.0)


class QuickWorker(HeadDeadlineWorker):
    header_timeout = HEADER_TIMEOUT
    max_reading_per_address = PER_ADDRESS


class RateWorker(QuickWorker):
    body_rate = BODY_RATE
    send_rate = SEND_RATE


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    """The request as JSON: method, path, its X- headers and the body's length. /big/N answers
    N bytes instead; /raise raises."""
    if environ["PATH_INFO"] == "/raise":
        raise RuntimeError("the application failed (on purpose)")
    if environ["PATH_INFO"].startswith("/big/"):
        size = int(environ["PATH_INFO"][5:])
        start_response("200 OK", [("Content-Length", str(size))])
        return [b"x" * size]
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


class _Upload:
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"body_length": len(req.bounded_stream.read())}


falcon_app = falcon.App()
falcon_app.add_route("/upload", _Upload())
