"""A real ippfaxd (`python -m faxgate ippfaxd`, gunicorn) on 127.0.0.1 with a temp spool."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

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

    @property
    def uri(self) -> str:
        return f"ipp://127.0.0.1:{self.port}/printers/sendfax"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_printer(root: Path, extra_env: dict[str, str] | None = None) -> Printer:
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
    log_path = root / "ippfaxd.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "faxgate", "ippfaxd"],
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
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.1)
    else:
        stop_printer(process)
        raise RuntimeError(f"ippfaxd did not listen: {log_path.read_text()}")
    return Printer(spool, port, process, log_path)


def stop_printer(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # gunicorn master; its workers follow
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def printer(tmp_path: Path) -> Iterator[Printer]:
    started = start_printer(tmp_path)
    yield started
    stop_printer(started.process)


@pytest.fixture(scope="module")
def module_printer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Printer]:
    started = start_printer(tmp_path_factory.mktemp("ippfaxd"))
    yield started
    stop_printer(started.process)


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
