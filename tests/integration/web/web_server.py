"""gunicorn with a chosen worker class on 127.0.0.1 (an ephemeral port, read from its log), and
a raw HTTP/1.1 client that sends exactly the bytes it is given."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
QUICK_WORKER = "web_testapp.QuickWorker"
RATE_WORKER = "web_testapp.RateWorker"


@dataclass
class Gunicorn:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 15) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # the master: its workers follow
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode


def start_gunicorn(
    log_path: Path, worker: str = QUICK_WORKER, threads: int = 2, app: str = "web_testapp:app"
) -> Gunicorn:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HERE), str(REPO / "app")]),
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable, "-m", "gunicorn", "--bind", "127.0.0.1:0", "--workers", "1",
        "--worker-class", worker, "--threads", str(threads), "--keep-alive", "5",
        "--graceful-timeout", "5", "--no-control-socket", "--log-level", "debug",
        "--error-logfile", "-", app,
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, env=env, cwd=HERE, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    server = Gunicorn(process, 0, log_path)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {server.log()}")
        found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", server.log())
        if found and "Booting worker" in server.log():
            server.port = int(found[1])
            return server
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"gunicorn did not start: {server.log()}")


class RawClient:
    """One connection; responses read with Content-Length (all the echo app sends)."""

    def __init__(self, port: int, source: str = "127.0.0.1", timeout: float = 10) -> None:
        self.sock = socket.create_connection(
            ("127.0.0.1", port), timeout=timeout, source_address=(source, 0)
        )
        self.file = self.sock.makefile("rb")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def trickle(self, data: bytes, pieces: int, pause: float) -> None:
        size = max(1, -(-len(data) // pieces))
        for start in range(0, len(data), size):
            self.sock.sendall(data[start : start + size])
            time.sleep(pause)

    def response(self) -> tuple[int, dict[str, str], bytes]:
        """(status, headers with lower-case names, body); status 0 when the server closed."""
        line = self.file.readline()
        if not line:
            return 0, {}, b""
        status = int(line.split()[1])
        headers: dict[str, str] = {}
        while (header := self.file.readline()) not in (b"\r\n", b""):
            name, _, value = header.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = self.file.read(int(headers.get("content-length", "0")))
        return status, headers, body

    def echo(self) -> dict[str, Any]:
        status, _headers, body = self.response()
        assert status == 200, (status, body)
        echoed: dict[str, Any] = json.loads(body)
        return echoed

    def closed_by_server(self) -> bool:
        """Whether the server has closed its side (whatever it said before)."""
        try:
            self.file.read()  # to the end of the stream
        except TimeoutError:  # still open
            return False
        except OSError:  # reset: closed as well
            return True
        return True

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.file.close()
            self.sock.close()


def connect(clients: list[RawClient], port: int, source: str = "127.0.0.1") -> RawClient:
    """A raw connection from `source`, closed by the `clients` fixture after the test."""
    client = RawClient(port, source)
    clients.append(client)
    return client
