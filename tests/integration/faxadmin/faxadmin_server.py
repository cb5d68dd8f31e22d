"""Start the real faxadmin (gunicorn) on loopback for tests, and a tiny cookie-keeping client."""

from __future__ import annotations

import http.client
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from faxgate.spool.layout import Spool

PORT_RANGE = (48000, 48999)
PASSWORD = "integration-pass-1"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def free_port() -> int:
    """A free TCP port on 127.0.0.1 in faxadmin's test range."""
    for _ in range(200):
        port = random.randint(*PORT_RANGE)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 48000-48999")


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, timeout: float = 15.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def start_faxadmin(
    spool: Spool, log: Path, workers: int = 2, extra_env: dict[str, str] | None = None
) -> Server:
    config = log.parent / "appliance.yml"
    if not config.exists():
        config.write_text("{}\n")
    port = free_port()
    env = {
        **os.environ,
        "FAXGATE_SPOOL": str(spool.root),
        "FAXGATE_CONFIG": str(config),
        **(extra_env or {}),
    }
    stream = log.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "faxgate",
            "faxadmin",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=stream,
        stderr=subprocess.STDOUT,
    )
    server = Server(process, port, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("faxadmin exited: " + log.read_text(errors="replace"))
        try:
            if Client(port).request("GET", "/healthz")[0] in (200, 503):
                return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError("faxadmin did not answer: " + log.read_text(errors="replace"))


@dataclass
class Client:
    """HTTP/1.1 to 127.0.0.1:port keeping cookies and the last page's CSRF token."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str = ""

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        all_headers = {"Accept": "text/html", **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            connection.request(method, path, body=body, headers=all_headers)
            response = connection.getresponse()
            data = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    key, _, rest = value.partition("=")
                    cookie_value = rest.split(";", 1)[0].strip('"')
                    if cookie_value:
                        self.cookies[key] = cookie_value
                    else:
                        self.cookies.pop(key, None)
            answer = {k.lower(): v for k, v in response.getheaders()}
        finally:
            connection.close()
        if "text/html" in answer.get("content-type", ""):
            found = _CSRF.search(data.decode(errors="replace"))
            if found:
                self.csrf = found.group(1)
        return response.status, answer, data

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        return self.request("GET", path)

    def post(
        self, path: str, form: dict[str, str], csrf: bool = True
    ) -> tuple[int, dict[str, str], bytes]:
        data = {"csrf_token": self.csrf, **form} if csrf else form
        return self.request(
            "POST",
            path,
            urlencode(data).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )

    def login(self, name: str, password: str) -> int:
        self.get("/login")
        return self.post("/login", {"username": name, "password": password, "next": "/"})[0]

    def json(self, method: str, path: str, token: str, value: Any = None) -> tuple[int, Any]:
        body = None if value is None else json.dumps(value).encode()
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        status, _headers, data = self.request(method, path, body, headers)
        return status, json.loads(data) if data else None


@dataclass
class Running:
    server: Server
    spool: Spool
