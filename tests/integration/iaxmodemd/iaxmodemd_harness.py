"""Real processes for the iaxmodemd tests: the daemon, Debian's iaxmodem and efax, a lossy proxy.

Everything listens on 127.0.0.1 in the port range 45000-45799 (bench/lines.py uses 45800 and
up); each helper signals only the processes it started, by PID.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
PYTHON = sys.executable

_port_lock = threading.Lock()
PORT_LOW, PORT_SPAN = 45000, 780  # 45000-45779, with room for a few consecutive ports
_next_port = PORT_LOW + (os.getpid() % 39) * 20


def free_ports(count: int) -> int:
    """The first of `count` consecutive UDP ports in 45000-45799 that are free right now."""
    global _next_port
    with _port_lock:
        for _ in range(200):
            base = _next_port
            _next_port = PORT_LOW + (_next_port - PORT_LOW + count + 1) % PORT_SPAN
            sockets = []
            try:
                for port in range(base, base + count):
                    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    sockets.append(s)
                    s.bind(("127.0.0.1", port))
                return base
            except OSError:
                continue
            finally:
                for s in sockets:
                    s.close()
    raise RuntimeError("no free UDP ports in 45000-45799")


def init_spool(root: Path) -> Path:
    """A spool made by the real `python -m faxgate init`."""
    env = {**os.environ, "FAXGATE_SPOOL": str(root)}
    subprocess.run(
        [PYTHON, "-m", "faxgate", "init"], env=env, check=True, capture_output=True, timeout=60
    )
    return root


def make_job(spool: Path, number: str = "100") -> int:
    """A jobs row for a dial order to refer to (faxqueued's part, done by hand here)."""
    with contextlib.closing(sqlite3.connect(spool / "etc" / "faxgate.db", timeout=30)) as db:
        now = time.time()
        cursor = db.execute(
            "INSERT INTO jobs (number, state, send_at, kill_at, created_at, updated_at)"
            " VALUES (?, 'active', ?, ?, ?, ?)",
            (number, now, now + 3600, now, now),
        )
        db.commit()
        assert cursor.lastrowid is not None
        return cursor.lastrowid


def rows(spool: Path, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    with contextlib.closing(sqlite3.connect(spool / "etc" / "faxgate.db", timeout=30)) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute(sql, params)]


@dataclass
class IaxModemd:
    """`python -m faxgate iaxmodemd` as a subprocess on its own spool."""

    spool: Path
    settings: dict[str, str]
    log_path: Path = field(init=False)
    process: subprocess.Popen[bytes] | None = None

    def __post_init__(self) -> None:
        self.log_path = self.spool.parent / f"iaxmodemd-{id(self)}.log"

    @property
    def socket_path(self) -> Path:
        return self.spool / "iaxmodemd.sock"

    def start(self) -> IaxModemd:
        env = {**os.environ, "FAXGATE_SPOOL": str(self.spool)}
        for key, value in self.settings.items():
            env["FAXGATE_SYS_FAX_CONFIGURE_" + key.upper().replace(".", "_")] = value
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [PYTHON, "-m", "faxgate", "iaxmodemd"], env=env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + 20
        while not self._answers():  # a socket file alone may be left by a killed daemon
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"iaxmodemd did not start:\n{self.log()}")
            time.sleep(0.05)
        return self

    def _answers(self) -> bool:
        try:
            return bool(self.request({"op": "status"}, timeout=2)["ok"])
        except (OSError, ValueError, EOFError):
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM and wait; SIGKILL only if it did not exit (the test then fails)."""
        process = self.process
        if process is None or process.poll() is not None:
            return None if process is None else process.returncode
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise

    def request(self, message: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        with Control(self.socket_path, timeout) as control:
            return control.request(message)


class Control:
    """A control-socket connection."""

    def __init__(self, path: Path, timeout: float = 10.0) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(str(path))
        self.file = self.sock.makefile("rwb")

    def send(self, message: dict[str, Any]) -> None:
        self.file.write(json.dumps(message).encode() + b"\n")
        self.file.flush()

    def read(self) -> dict[str, Any]:
        line = self.file.readline()
        if not line:
            raise EOFError("iaxmodemd closed the control connection")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def request(self, message: dict[str, Any]) -> dict[str, Any]:
        self.send(message)
        return self.read()

    def events_until(self, predicate: Any, timeout: float) -> list[dict[str, Any]]:
        """Read events until one satisfies `predicate`; all of them, that one last."""
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no matching event within {timeout} s; saw {seen}")
            self.sock.settimeout(remaining)
            event = self.read()
            seen.append(event)
            if predicate(event):
                return seen

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.file.close()
            self.sock.close()

    def __enter__(self) -> Control:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def wait_for(predicate: Any, timeout: float, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


@dataclass
class RealIaxModem:
    """Debian's iaxmodem in the foreground, with its pty symlink in `directory`."""

    directory: Path
    name: str
    port: int
    server: str
    refresh: int = 0
    peername: str = "efax"
    secret: str = "none"
    process: subprocess.Popen[bytes] | None = None

    @property
    def device(self) -> Path:
        # Not under `directory`: iaxmodem cannot make its pty link at a path much longer than
        # 64 characters ("failed to create ... symbolic link"), and pytest's temp paths are
        # longer. The port is unique per modem, so the short folder is too.
        return Path(tempfile.gettempdir()) / f"iaxdev-{self.port}" / f"tty{self.name}"

    @property
    def log_path(self) -> Path:
        return self.directory / f"{self.name}.log"

    def start(self) -> RealIaxModem:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o755)  # it drops to uucp after opening the pty
        self.device.parent.mkdir(exist_ok=True)
        self.device.unlink(missing_ok=True)  # a link left by an earlier run of this port
        config = self.directory / f"cfg{self.name}"
        config.write_text(
            f"device {self.device}\nowner uucp:uucp\nmode 660\nport {self.port}\n"
            f"refresh {self.refresh}\nserver {self.server}\npeername {self.peername}\n"
            f"secret {self.secret}\ncidname efax\ncidnumber 5551234\ncodec slinear\n"
        )
        # iaxmodem takes its config path relative to /etc/iaxmodem.
        relative = os.path.relpath(config, "/etc/iaxmodem")
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                ["iaxmodem", relative], stdout=log, stderr=log, cwd=self.directory
            )
        if not wait_for(
            lambda: self.device.is_symlink() or self.process.poll() is not None, 30, 0.05
        ):
            raise RuntimeError(f"iaxmodem made no {self.device} in 30 s: {self.log()}")
        if self.process.poll() is not None:
            raise RuntimeError(f"iaxmodem exited with {self.process.returncode}: {self.log()}")
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self.device.parent, ignore_errors=True)


def efax(device: Path, args: list[str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            ["efax", "-d", str(device), "-o1", "-iZ", *args], stdout=out, stderr=out
        )


def stop_process(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class LossyProxy:
    """A UDP relay between two IAX2 endpoints that drops and delays datagrams.

    Side A talks to `port_a`, side B to `port_b`; each datagram is dropped with probability
    `drop` and otherwise delivered after a random delay of up to `jitter` seconds (which can
    reorder datagrams, as a congested network does). Seeded, so a failure can be replayed.
    """

    def __init__(
        self, target_b: tuple[str, int], drop: float, jitter: float, seed: int = 1
    ) -> None:
        self.port_a = free_ports(2)
        self.port_b = self.port_a + 1
        self.sock_a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock_a.bind(("127.0.0.1", self.port_a))
        self.sock_b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock_b.bind(("127.0.0.1", self.port_b))
        self.target_b = target_b
        self.address_a: tuple[str, int] | None = None
        self.drop, self.jitter = drop, jitter
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.forwarded = self.dropped = 0
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._relay, args=(self.sock_a, True), daemon=True),
            threading.Thread(target=self._relay, args=(self.sock_b, False), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _relay(self, sock: socket.socket, from_a: bool) -> None:
        sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                data, source = sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            if from_a:
                self.address_a = source
                out, target = self.sock_b, self.target_b
            else:
                if self.address_a is None:
                    continue
                out, target = self.sock_a, self.address_a
            with self.lock:
                if self.rng.random() < self.drop:
                    self.dropped += 1
                    continue
                delay = self.rng.uniform(0, self.jitter)
                self.forwarded += 1
            timer = threading.Timer(delay, self._send, (out, data, target))
            timer.daemon = True
            timer.start()

    def _send(self, sock: socket.socket, data: bytes, target: tuple[str, int]) -> None:
        with contextlib.suppress(OSError):
            sock.sendto(data, target)

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(2)
        self.sock_a.close()
        self.sock_b.close()


@contextlib.contextmanager
def running(*things: Any) -> Iterator[None]:
    try:
        yield
    finally:
        for thing in reversed(things):
            with contextlib.suppress(Exception):
                thing.stop()
