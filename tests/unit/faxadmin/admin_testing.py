"""Helpers and fixtures of the faxadmin unit tests: an app on a fresh spool with an administrator,
two users, and a browser-like client (registered as fixtures by conftest.py)."""

from __future__ import annotations

import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import falcon.testing
import pytest
from PIL import Image, ImageDraw

from faxgate import devices, users
from faxgate.faxadmin.app import create_app
from faxgate.faxadmin.context import AdminConfig
from faxgate.spool.layout import Spool
from faxgate.spool.ledger import Ledger

PASSWORD = "correct-horse-9"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Told:
    """What the app asked supervisord to do (the real call needs a running appliance)."""

    calls: list[tuple[set[str], set[str]]] = field(default_factory=list)

    def __call__(self, spool: Spool, restart: set[str], reload: set[str]) -> list[str]:
        self.calls.append((set(restart), set(reload)))
        return [f"restarted {name}" for name in sorted(restart)]


@dataclass
class Admin:
    spool: Spool
    ledger: Ledger
    client: falcon.testing.TestClient
    told: Told
    config_path: Path


@pytest.fixture(scope="session")
def template_ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated ledger with admin, alice and bob (Argon2 is slow on purpose: hash once)."""
    path = tmp_path_factory.mktemp("template") / "faxgate.db"
    with Ledger.open(path) as ledger:
        users.create(ledger, "admin", PASSWORD, "admin", "test")
        users.create(ledger, "alice", PASSWORD, "user", "test", email="alice@example.com")
        users.create(ledger, "bob", PASSWORD, "user", "test", email="bob@example.com")
        ledger.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def make_admin(tmp_path: Path, template_ledger: Path) -> Iterator[Callable[..., Admin]]:
    opened: list[Ledger] = []

    def make(**config: Any) -> Admin:
        spool = Spool(tmp_path / "spool")
        spool.ensure()
        if not spool.ledger_path.exists():
            shutil.copyfile(template_ledger, spool.ledger_path)
        config_path = tmp_path / "appliance.yml"
        config_path.write_text("{}\n")
        told = Told()
        app = create_app(
            AdminConfig(
                spool=spool, config_path=config_path, environ={}, tell_programs=told, **config
            )
        )
        ledger = Ledger.open(spool.ledger_path)
        opened.append(ledger)
        return Admin(spool, ledger, falcon.testing.TestClient(app), told, config_path)

    yield make
    for ledger in opened:
        ledger.close()


@pytest.fixture
def admin(make_admin: Callable[..., Admin]) -> Admin:
    return make_admin()


class Browser:
    """Keeps cookies and the page's CSRF token like a browser does."""

    def __init__(self, client: falcon.testing.TestClient) -> None:
        self.client = client
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers.update(extra or {})
        return headers

    def _keep(self, result: falcon.testing.Result) -> falcon.testing.Result:
        for name, cookie in result.cookies.items():
            if cookie.value:
                self.cookies[name] = cookie.value
            else:
                self.cookies.pop(name, None)
        html = "text/html" in (result.headers.get("content-type") or "")
        found = _CSRF.search(result.text) if html else None
        if found:
            self.csrf = found.group(1)
        return result

    def get(self, path: str, **params: str) -> falcon.testing.Result:
        return self._keep(
            self.client.simulate_get(path, params=params or None, headers=self._headers())
        )

    def post(
        self, path: str, data: dict[str, str] | None = None, csrf: bool = True, **kwargs: Any
    ) -> falcon.testing.Result:
        form = dict(data or {})
        if csrf:
            form.setdefault("csrf_token", self.csrf)
        headers = self._headers({"Content-Type": "application/x-www-form-urlencoded"})
        return self._keep(
            self.client.simulate_post(path, body=urlencode(form), headers=headers, **kwargs)
        )

    def post_multipart(
        self,
        path: str,
        fields: dict[str, str],
        files: list[tuple[str, str, bytes, str]],
        csrf: bool = True,
    ) -> falcon.testing.Result:
        all_fields = {"csrf_token": self.csrf, **fields} if csrf else fields
        body, content_type = multipart(all_fields, files)
        headers = self._headers({"Content-Type": content_type})
        return self._keep(self.client.simulate_post(path, body=body, headers=headers))

    def login(self, name: str, password: str = PASSWORD) -> falcon.testing.Result:
        self.get("/login")
        return self.post("/login", {"username": name, "password": password, "next": "/"})


def multipart(
    fields: dict[str, str], files: list[tuple[str, str, bytes, str]]
) -> tuple[bytes, str]:
    """A multipart/form-data body: text fields and (field, filename, data, type) files."""
    boundary = "----faxgate-test-" + secrets.token_hex(8)
    chunks: list[bytes] = []
    for name, value in fields.items():
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, filename, data, content_type in files:
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def browser(admin: Admin) -> Callable[[str], Browser]:
    def logged_in(name: str) -> Browser:
        b = Browser(admin.client)
        result = b.login(name)
        assert result.status_code == 303, result.text
        return b

    return logged_in


def fax_tiff(path: Path, pages: int = 2) -> Path:
    """A real fax TIFF: 1728 px wide, fine resolution, G4, `pages` pages with a black bar each."""
    images = []
    for number in range(pages):
        image = Image.new("1", (1728, 400), 1)
        ImageDraw.Draw(image).rectangle((100, 50 + number * 40, 1600, 90 + number * 40), fill=0)
        images.append(image)
    images[0].save(
        path, "TIFF", compression="group4", dpi=(204, 196), save_all=True, append_images=images[1:]
    )
    return path


def add_job(ledger: Ledger, owner: str | None, number: str = "100", state: str = "done",
            created_at: float | None = None, document: Path | None = None, spool: Spool | None = None) -> int:  # fmt: skip
    now = time.time() if created_at is None else created_at
    with ledger.transaction() as conn:
        document_id = None
        if document is not None:
            assert spool is not None
            document_id = conn.execute(
                "INSERT INTO documents (sha256, path, pages, created_at) VALUES (?, ?, 2, ?)",
                # faxqueued stores a document as its name in docq/
                (f"sha-{now}-{number}-{owner}", document.name, now),
            ).lastrowid
        cursor = conn.execute(
            "INSERT INTO jobs (number, state, owner, send_at, kill_at, created_at, updated_at,"
            " document_id, pages_total) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 2)",
            (number, state, owner, now, now + 3600, now, now, document_id),
        )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def add_received(ledger: Ledger, tiff: str, dnid: str = "100", caller: str = "0301234",
                 received_at: float | None = None, device_id: int | None = None) -> int:  # fmt: skip
    now = time.time() if received_at is None else received_at
    with ledger.transaction() as conn:
        cursor = conn.execute(
            "INSERT INTO received_faxes (tiff_path, dnid, caller_id, pages, line, state,"
            " received_at, device_id) VALUES (?, ?, ?, 2, '2', 'delivered', ?, ?)",
            (tiff, dnid, caller, now, device_id),
        )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def add_device(ledger: Ledger, extension: str, email: str) -> int:
    return devices.add(ledger, extension, [email], "test").id
