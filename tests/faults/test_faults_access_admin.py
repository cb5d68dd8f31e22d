"""The web admin against a real faxadmin (gunicorn) on loopback: who reaches which route.

Every route of the app is found by inspecting it (nothing listed by hand can be forgotten)
and requested without credentials: only the login page, the static files and the health check
may answer. An ordinary user's API token reaches no administrator route and none of another
user's submissions or print jobs; download names cannot walk out of the spool.
"""

from __future__ import annotations

import http.client
import json
import re
import time
import uuid
from pathlib import Path

import falcon.inspect
import pytest
from faults_appliance import Appliance, Program

from faxgate import users
from faxgate.faxadmin.app import create_app
from faxgate.faxadmin.context import AdminConfig
from faxgate.faxadmin.security import TokenStore
from faxgate.spool.layout import Spool

PUBLIC = {("/login", "GET"), ("/login", "POST"), ("/static/{name}", "GET"), ("/healthz", "GET")}
PDF = (
    Path(__file__).resolve().parents[1] / "fixtures" / "documents" / "a4-3pages.pdf"
).read_bytes()
SAMPLES = {"name": "style.css", "action": "cancel", "kind": "pdf", "extension": "100"}


def app_routes(tmp: Path) -> list[tuple[str, str, str]]:
    """(URI template, method, resource) of every route the admin app serves."""
    app = create_app(AdminConfig(spool=Spool(tmp / "spool"), environ={}))
    found = []
    for route in falcon.inspect.inspect_app(app).routes:
        for method in route.methods:
            if not method.internal and method.method != "OPTIONS":
                found.append((route.path, method.method, route.class_name))
    return found


def concrete(template: str) -> str:
    def value(match: re.Match[str]) -> str:
        name, _, kind = match[1].partition(":")
        return "1" if kind == "int" else SAMPLES.get(name, "x")

    return re.sub(r"\{([^}]+)\}", value, template)


@pytest.fixture(scope="module")
def admin(module_appliance: Appliance) -> tuple[Program, dict[str, str]]:
    tokens: dict[str, str] = {}
    with module_appliance.ledger() as ledger:
        for name in ("alice", "bob"):
            users.create(ledger, name, f"{name}-Pa55-word", "user", actor="test",
                         email=f"{name}@example.com")  # fmt: skip
            tokens[name] = TokenStore(ledger).create(
                users.get(ledger, name), "t", "test", time.time()
            )
        tokens["admin"] = TokenStore(ledger).create(
            users.get(ledger, "admin"), "t", "test", time.time()
        )
    return module_appliance.start("faxadmin"), tokens


def request(
    program: Program, method: str, path: str, token: str | None = None,
    body: bytes | None = None, headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
    connection = http.client.HTTPConnection("127.0.0.1", program.port, timeout=30)
    sent = {"Accept": "application/json", **(headers or {})}
    if token:
        sent["Authorization"] = "Bearer " + token
    try:
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def test_the_crawl_finds_the_routes(tmp_path: Path) -> None:
    routes = app_routes(tmp_path)
    assert len(routes) > 40
    assert ("/api/v1/settings", "GET", "SettingsResource") in routes


def test_no_route_answers_without_login_but_login_static_and_health(
    admin: tuple[Program, dict[str, str]], tmp_path: Path
) -> None:
    program, _ = admin
    leaks = []
    for template, method, resource in app_routes(tmp_path):
        status, headers, body = request(
            program, method, concrete(template), body=b"" if method != "GET" else None
        )
        if (template, method) in PUBLIC:
            continue
        refused = status in (401, 403) or (
            status in (302, 303) and headers.get("location", "").startswith("/login")
        )
        if not refused:
            leaks.append(f"{method} {template} ({resource}) -> {status} {body[:80]!r}")
    assert leaks == []


def test_a_wrong_token_or_forged_session_is_refused(admin: tuple[Program, dict[str, str]]) -> None:
    program, tokens = admin
    assert request(program, "GET", "/api/v1/jobs", token=tokens["alice"] + "x")[0] == 401
    assert request(program, "GET", "/api/v1/jobs", token="")[0] == 401
    status, headers, _ = request(
        program, "GET", "/", headers={"Cookie": "faxgate_session=forged", "Accept": "text/html"}
    )
    assert status in (302, 303)
    assert headers["location"].startswith("/login")


def test_a_user_token_reaches_no_administrator_route(
    admin: tuple[Program, dict[str, str]], tmp_path: Path
) -> None:
    program, tokens = admin
    app = create_app(AdminConfig(spool=Spool(tmp_path / "spool"), environ={}))
    admin_only = []
    for route in falcon.inspect.inspect_app(app).routes:
        resource = app._router.find(
            concrete(route.path)
        )  # the resource object, for its access level
        if resource is not None and getattr(resource[0], "access", "admin") == "admin":
            admin_only.append(route.path)
    assert "/api/v1/settings" in admin_only
    for template in admin_only:
        status, _, body = request(program, "GET", concrete(template), token=tokens["alice"])
        assert status in (403, 405), f"{template}: {status} {body[:80]!r}"


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, filename, data in files:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            "Content-Type: application/pdf\r\n\r\n".encode()
            + data
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def test_no_user_reaches_another_users_submission_or_print_job(
    module_appliance: Appliance, admin: tuple[Program, dict[str, str]]
) -> None:
    program, tokens = admin
    body, content_type = multipart({"numbers": "0991234"}, [("files", "offer.pdf", PDF)])
    status, _, answer = request(
        program, "POST", "/api/v1/jobs", tokens["alice"], body, {"Content-Type": content_type}
    )
    assert status in (200, 201, 202), answer
    submission = json.loads(answer)["submission"]
    assert request(program, "GET", f"/api/v1/submissions/{submission}", tokens["alice"])[0] == 200
    assert request(program, "GET", f"/api/v1/submissions/{submission}", tokens["bob"])[0] in (
        403,
        404,
    )
    document = module_appliance.spool.tmp / "held.pdf"
    document.write_bytes(PDF)
    with module_appliance.ledger() as ledger, ledger.transaction() as conn:
        held = conn.execute(
            "INSERT INTO pending_print_jobs (owner, title, path, mime_type, created_at) VALUES (?, ?, ?, ?, ?)",
            ("alice", "alice's letter", str(document), "application/pdf", time.time()),
        ).lastrowid
    assert (
        "alice's letter"
        in request(program, "GET", "/api/v1/printjobs", tokens["alice"])[2].decode()
    )
    for method, path in (
        ("POST", f"/api/v1/printjobs/{held}/send"),
        ("DELETE", f"/api/v1/printjobs/{held}"),
    ):
        status, _, answer = request(program, method, path, tokens["bob"], b'{"numbers": ["0991234"]}' if method == "POST" else None,
                                    {"Content-Type": "application/json"})  # fmt: skip
        assert status in (403, 404), f"{method} {path}: {status} {answer[:100]!r}"
    _, _, listing = request(program, "GET", "/api/v1/printjobs", tokens["bob"])
    assert "alice's letter" not in listing.decode()
    assert document.exists()  # bob's DELETE removed nothing
    assert module_appliance.count("SELECT count(*) FROM pending_print_jobs WHERE id = ?", held) == 1


@pytest.mark.parametrize(
    "path",
    [
        "/static/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/static/../../../../etc/passwd",
        "/faxes/received/1/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/faxes/sent/1/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/api/v1/received/1/..%2f..%2f..%2fetc%2fpasswd",
        "/api/v1/jobs/1/download/..%2f..%2f..%2fetc%2fpasswd",
        "/faxes/received/1/%2fetc%2fpasswd",
    ],
)
def test_download_names_do_not_walk_out_of_the_spool(
    admin: tuple[Program, dict[str, str]], path: str
) -> None:
    program, tokens = admin
    status, _, body = request(program, "GET", path, tokens["admin"])
    assert b"root:" not in body
    assert status in (400, 403, 404)
