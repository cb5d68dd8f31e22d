"""The falcon application: HTTP in front of the IPP printer service.

`create_app(spool, settings)` wires the service; `get_app()` is gunicorn's entry point (spool
from FAXGATE_SPOOL, settings from the usual layers; gunicorn re-imports it in each worker, so a
SIGHUP that restarts workers reloads the settings). Every worker keeps its own ledger
connection; jobs live in the ledger so workers agree.

HTTP facts that shaped this (see docs/print-gateway.md): ipptool and CUPS send chunked bodies
with `Expect: 100-continue`, which gunicorn answers and decodes, so the body is read from
`req.stream` to EOF (`bounded_stream` sees 0 bytes of a chunked body); the printer is found by
path whatever host or scheme the client used.
"""

from __future__ import annotations

import functools
import hashlib
import html
import io
import logging
import re
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import falcon
from PIL import Image, ImageDraw

from faxgate import users
from faxgate.ipp.codec import attributes_length
from faxgate.ippfaxd.access import basic_credentials, client_allowed
from faxgate.ippfaxd.jobs import JobStore
from faxgate.ippfaxd.service import (
    ICON_PATHS,
    PRINTER_PATH,
    Caller,
    PrinterConfig,
    PrinterService,
)
from faxgate.settings import Settings, load_settings
from faxgate.spool.atomic import write_atomic
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

log = logging.getLogger("ippfaxd")

IPP_MEDIA_TYPE = "application/ipp"
READ_CHUNK = 256 * 1024
MAX_ATTRIBUTES = 1024 * 1024  # a request's attributes are a few kB; a document follows them
AUTH_CACHE_SECONDS = 300.0
_HOST = re.compile(r"\A(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?\Z")
K = "sys.fax.configure."


def printer_uuid(spool: Spool) -> str:
    """The printer's stable UUID, kept in etc/ so clients recognise it after restarts."""
    path = spool.etc / "ippfaxd.uuid"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        value = f"urn:uuid:{uuid.uuid4()}"
        write_atomic(path, value.encode() + b"\n", tmp_dir=spool.tmp)
        return path.read_text().strip()


def printer_config(spool: Spool, settings: Settings) -> PrinterConfig:
    auth = settings.get_str(K + "ipp.auth")
    return PrinterConfig(
        uuid=printer_uuid(spool),
        name=settings.get_str(K + "ipp.printername"),
        location=settings.get_str(K + "ipp.location"),
        more_info=settings.get_str(K + "ipp.moreinfo"),
        admin_port=settings.get_int(K + "admin.port"),
        authentication="basic" if auth == "required" else "requesting-user-name",
        usermangle_search=settings.get_str(K + "faxprint.usermangle.search"),
        usermangle_replace=settings.get_str(K + "faxprint.usermangle.replace"),
        max_size=settings.get_int(K + "ipp.maxsize") * 1024 * 1024,
    )


class PrinterResource:
    """Every path: POST carries IPP (the service checks printer-uri), GET shows a status page."""

    def __init__(self, spool: Spool, settings: Settings, started_at: float) -> None:
        self.spool = spool
        self.settings = settings
        self.config = printer_config(spool, settings)
        self.started_at = started_at
        self.networks = settings.get_list(K + "ipp.networks")
        self.auth_mode = settings.get_str(K + "ipp.auth")
        self.default_host = f"{settings.get_str(K + 'ipp.bind')}:{settings.get_int(K + 'ipp.port')}"
        self._local = threading.local()
        self._verified: dict[tuple[str, str], float] = {}

    def ledger(self) -> Ledger:
        ledger: Ledger | None = getattr(self._local, "ledger", None)
        if ledger is None:
            ledger = Ledger.open(self.spool.ledger_path)
            self._local.ledger = ledger
        return ledger

    def service(self) -> PrinterService:
        return PrinterService(self.spool, JobStore(self.ledger()), self.config, self.started_at)

    def host(self, req: falcon.Request) -> str:
        host = req.get_header("Host") or ""
        return host if _HOST.match(host) else self.default_host

    # -- access -------------------------------------------------------------------------------

    def authenticated_user(self, req: falcon.Request) -> str | None:
        """The appliance user proven by Basic auth; raises 401 when the policy needs one."""
        if self.auth_mode == "none":
            return None
        credentials = basic_credentials(req.get_header("Authorization"))
        if credentials is None:
            if self.auth_mode == "required":
                raise falcon.HTTPUnauthorized(
                    title="Authentication required",
                    description="Log in with your fax server user name and password.",
                    challenges=['Basic realm="faxgate"'],
                )
            return None
        name, password = credentials
        key = (name, hashlib.sha256(password.encode()).hexdigest())
        if self._verified.get(key, 0.0) > time.monotonic():
            return name
        if users.authenticate(self.ledger(), name, password) is None:
            log.info("print client %s: wrong user name or password for %r", req.remote_addr, name)
            raise falcon.HTTPUnauthorized(
                title="Wrong user name or password", challenges=['Basic realm="faxgate"']
            )
        # Argon2 costs ~0.1 s per check; CUPS polls many times per job.
        self._verified[key] = time.monotonic() + AUTH_CACHE_SECONDS
        return name

    # -- HTTP ---------------------------------------------------------------------------------

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        content_type = (req.content_type or "").split(";", 1)[0].strip().lower()
        if content_type != IPP_MEDIA_TYPE:
            raise falcon.HTTPUnsupportedMediaType(description="This is an IPP printer.")
        head, rest = read_attributes(req.stream)
        service = self.service()
        resp.content_type = IPP_MEDIA_TYPE
        if not client_allowed(req.remote_addr, self.networks):
            log.info("refused print client %s: not in the allowed networks", req.remote_addr)
            resp.data = service.forbidden(head, "your network may not use this fax printer")
            return
        user = self.authenticated_user(req)
        caller = Caller(address=req.remote_addr, host=self.host(req), authenticated_user=user)
        resp.data = service.handle(head, caller, rest)

    def on_any(self, req: falcon.Request, resp: falcon.Response, **_: Any) -> None:
        """The sink for every path and method."""
        if req.method == "POST":
            self.on_post(req, resp)
        elif req.method in ("GET", "HEAD"):
            self.on_get(req, resp)
        else:
            raise falcon.HTTPMethodNotAllowed(["GET", "HEAD", "POST"])

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not client_allowed(req.remote_addr, self.networks):
            raise falcon.HTTPForbidden(description="Your network may not use this fax printer.")
        if req.path in ICON_PATHS:
            resp.content_type = "image/png"
            resp.data = printer_icon()
            return
        uri = html.escape(f"ipp://{self.host(req)}{PRINTER_PATH}")
        resp.content_type = "text/html; charset=utf-8"
        resp.text = (
            "<!doctype html><title>Fax printer</title><h1>Fax printer</h1>"
            f"<p>Add this printer by its URL: <code>{uri}</code> "
            f"(Windows: <code>http://{html.escape(self.host(req))}{PRINTER_PATH}</code>).</p>"
        )


@functools.cache
def printer_icon() -> bytes:
    """A 128×128 PNG for printer-icons (clients show it in their printer lists)."""
    image = Image.new("L", (128, 128), 255)
    draw = ImageDraw.Draw(image)
    draw.rectangle((16, 40, 112, 104), outline=0, width=6)  # the machine
    draw.rectangle((36, 16, 92, 48), outline=0, width=5)  # the sheet going in
    for y in (64, 76, 88):
        draw.line((32, y, 96, y), fill=0, width=4)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def read_attributes(stream: object) -> tuple[bytes, Iterator[bytes]]:
    """The body up to the end of the IPP attributes (at least), and an iterator of the rest.

    The body is read from the WSGI input to EOF in chunks (chunked requests have no length);
    the document after the attributes is left in the stream for the spool to store, so a large
    job never sits in memory whole.
    """
    read = getattr(stream, "read")  # noqa: B009 (a WSGI input has no common type)
    head = b""
    while attributes_length(head) is None:
        chunk: bytes = read(READ_CHUNK)
        if not chunk:
            break  # incomplete or empty: the decoder says what is wrong
        head += chunk
        if len(head) > MAX_ATTRIBUTES and attributes_length(head) is None:
            raise falcon.HTTPContentTooLarge(description="IPP attributes too large.")

    def rest() -> Iterator[bytes]:
        while chunk := read(READ_CHUNK):
            yield chunk

    return head, rest()


def create_app(
    spool: Spool, settings: Settings, started_at: float | None = None
) -> falcon.App[falcon.Request, falcon.Response]:
    """The WSGI application of the printer for `spool` with `settings`."""
    with Ledger.open(spool.ledger_path):
        pass  # apply migrations once, before workers serve
    app = falcon.App(media_type=IPP_MEDIA_TYPE)
    app.req_options.strip_url_path_trailing_slash = True
    resource = PrinterResource(spool, settings, time.time() if started_at is None else started_at)
    app.add_sink(resource.on_any, "/")
    return app


def get_app() -> falcon.App[falcon.Request, falcon.Response]:
    """gunicorn's entry point: `faxgate.ippfaxd.app:get_app()`."""
    spool = Spool.from_environment()
    spool.ensure()
    return create_app(spool, load_settings(spool))
