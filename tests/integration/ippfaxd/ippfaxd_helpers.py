"""Helpers for the ippfaxd tests: a real ippfaxd (gunicorn) on 127.0.0.1, an IPP client, the
interpreter run as faxqueued runs it. (A module of its own: `conftest` is not a unique name.)
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from faxgate.ipp.codec import Attribute, AttributeGroup, Message, decode_message, encode_message
from faxgate.ipp.constants import GroupTag, ValueTag
from faxgate.ippfaxd.interpret import interpret
from faxgate.settings import load_settings
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger
from faxgate.spool.requests import Interpretation, InterpretContext

REPO = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Printer:
    spool: Spool
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    host: str = "127.0.0.1"

    @property
    def uri(self) -> str:
        return f"ipp://{self.host}:{self.port}/printers/sendfax"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_printer(
    root: Path, extra_env: dict[str, str] | None = None, *, netns: str | None = None
) -> Printer:
    """ippfaxd on a free port; in network namespace `netns` (`ip netns exec`) when given, where
    it listens on the address FAXGATE_SYS_FAX_CONFIGURE_IPP_BIND names."""
    spool = Spool(root / "spool")
    spool.ensure()
    port = free_port()
    env = {
        **os.environ,
        "FAXGATE_SPOOL": str(spool.root),
        "FAXGATE_SYS_FAX_CONFIGURE_IPP_PORT": str(port),
        "FAXGATE_SYS_FAX_CONFIGURE_IPP_BIND": "127.0.0.1",
        # multicast DNS must not leave loopback in tests
        "FAXGATE_SYS_FAX_CONFIGURE_IPP_DNSSD": "false",
        **(extra_env or {}),
    }
    host = env["FAXGATE_SYS_FAX_CONFIGURE_IPP_BIND"]
    # `ip netns exec` execs the program: the PID stays gunicorn's master, as without it.
    prefix = ["ip", "netns", "exec", netns] if netns else []
    log_path = root / "ippfaxd.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*prefix, sys.executable, "-m", "faxgate", "ippfaxd"],
            env=env,
            cwd=root,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"ippfaxd exited: {log_path.read_text()}")
        if netns:
            # Not reachable from this namespace: gunicorn says when its socket listens.
            if "Listening at:" in log_path.read_text(errors="replace"):
                break
            time.sleep(0.1)
            continue
        try:
            with socket.create_connection((host, port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.1)
    else:
        stop_printer(process)
        raise RuntimeError(f"ippfaxd did not listen: {log_path.read_text()}")
    return Printer(spool, port, process, log_path, host)


def stop_printer(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # gunicorn master; its workers follow
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def interpret_submission(
    spool: Spool, submission_id: int, environ: dict[str, str] | None = None
) -> Interpretation:
    """Run the print interpreter on a stored submission, as faxqueued's worker does."""
    with Ledger.open(spool.ledger_path) as ledger:
        row = ledger.query_one("SELECT * FROM submissions WHERE id = ?", (submission_id,))
    assert row is not None
    work_dir = spool.tmp / f"interpret-{submission_id}"
    work_dir.mkdir(exist_ok=True)
    ctx = InterpretContext(
        spool=spool,
        settings=load_settings(config_path=None, environ=environ or {}),
        submission_id=submission_id,
        kind=row["kind"],
        raw_path=spool.incoming / row["path"],
        params=InterpretContext.decode_params(row["params"]),
        owner=row["owner"],
        work_dir=work_dir,
    )
    return interpret(ctx)


def mode(number: int, **more: str) -> dict[str, str]:
    """Settings environment for a gateway mode (and more FAXGATE_SYS_… keys)."""
    return {"FAXGATE_SYS_FAX_CONFIGURE_FAXPRINT_MODE": str(number), **more}


def ipp_request(
    port: int,
    operation: int,
    attributes: list[Attribute],
    data: bytes = b"",
    *,
    job_attributes: list[Attribute] | None = None,
    chunked: bool = False,
    headers: dict[str, str] | None = None,
    path: str = "/printers/sendfax",
    request_id: int = 1,
) -> tuple[int, Message | bytes]:
    """POST one IPP request over HTTP/1.1; (HTTP status, decoded IPP response or raw body)."""
    groups = [AttributeGroup(GroupTag.OPERATION, attributes)]
    if job_attributes:
        groups.append(AttributeGroup(GroupTag.JOB, job_attributes))
    body = encode_message(Message((2, 0), operation, request_id, groups, data))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        send_headers = {"Content-Type": "application/ipp", **(headers or {})}
        if chunked:
            chunks = [body[i : i + 1000] for i in range(0, len(body), 1000)]
            connection.request("POST", path, body=iter(chunks), headers=send_headers,
                               encode_chunked=True)  # fmt: skip
        else:
            connection.request("POST", path, body=body, headers=send_headers)
        response = connection.getresponse()
        raw = response.read()
        if response.status == 200 and response.getheader("Content-Type") == "application/ipp":
            return response.status, decode_message(raw)
        return response.status, raw
    finally:
        connection.close()


def operation_attributes(uri: str, user: str = "anna", **more: object) -> list[Attribute]:
    """charset, language, printer-uri, requesting-user-name, then `more` (name=value)."""
    attributes = [
        Attribute.of("attributes-charset", ValueTag.CHARSET, "utf-8"),
        Attribute.of("attributes-natural-language", ValueTag.NATURAL_LANGUAGE, "en"),
        Attribute.of("printer-uri", ValueTag.URI, uri),
        Attribute.of("requesting-user-name", ValueTag.NAME, user),
    ]
    tags = {bool: ValueTag.BOOLEAN, int: ValueTag.INTEGER}
    for name, value in more.items():
        tag = tags.get(type(value), ValueTag.KEYWORD)
        if name in ("document_format",):
            tag = ValueTag.MIME_MEDIA_TYPE
        if name in ("job_name", "document_name"):
            tag = ValueTag.NAME
        attributes.append(Attribute.of(name.replace("_", "-"), tag, value))  # type: ignore[arg-type]
    return attributes


def submissions(spool: Spool) -> list[sqlite3.Row]:
    with Ledger.open(spool.ledger_path) as ledger:
        return ledger.query("SELECT * FROM submissions ORDER BY id")


def wait_for_submissions(spool: Spool, count: int, timeout: float = 60.0) -> list[sqlite3.Row]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = submissions(spool)
        if len(rows) >= count:
            return rows
        time.sleep(0.2)
    raise AssertionError(f"expected {count} submissions, have {len(submissions(spool))}")
