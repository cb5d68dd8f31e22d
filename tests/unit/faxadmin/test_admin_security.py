"""Login, sessions, CSRF, the login rate limit, network policy: the rules and the requests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from admin_testing import PASSWORD, Admin, Browser

from faxgate.access import client_allowed
from faxgate.faxadmin.security import (
    MAX_FAILURES_PER_CLIENT,
    MAX_FAILURES_PER_USER,
    login_limited,
)

PAGES = [
    "/", "/settings/faxserver", "/settings/mail", "/settings/system", "/devices", "/devices/new",
    "/faxes/sent", "/faxes/received", "/faxes/sent.csv", "/faxes/received/1", "/faxes/sent/1",
    "/faxes/received/1/fax.pdf", "/queue", "/send", "/printjobs", "/outbox", "/maintenance",
    "/users", "/account", "/audit", "/status.json",
]  # fmt: skip
API = ["/api/v1/jobs", "/api/v1/received", "/api/v1/devices", "/api/v1/settings",
       "/api/v1/openapi.json", "/api/v1/lines", "/metrics"]  # fmt: skip
ADMIN_ONLY = ["/settings/faxserver", "/settings/system", "/devices", "/users", "/outbox",
              "/maintenance", "/audit", "/status.json", "/metrics"]  # fmt: skip


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("127.0.0.1", True),
        ("192.168.7.9", True),
        ("::1", True),
        ("::ffff:10.1.2.3", True),
        ("8.8.8.8", False),
        ("2001:db8::1", False),
        ("", False),
        ("not-an-address", False),
    ],
)
def test_client_allowed_by_networks(address: str, allowed: bool) -> None:
    networks = ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "192.168.0.0/16"]
    assert client_allowed(address, networks) is allowed


def test_login_limit_counts_user_and_client_failures() -> None:
    assert not login_limited(MAX_FAILURES_PER_USER - 1, 0)
    assert login_limited(MAX_FAILURES_PER_USER, 0)
    assert login_limited(0, MAX_FAILURES_PER_CLIENT)
    assert not login_limited(0, MAX_FAILURES_PER_CLIENT - 1)


@pytest.mark.parametrize("path", PAGES)
def test_pages_need_login(admin: Admin, path: str) -> None:
    result = admin.client.simulate_get(path, headers={"Accept": "text/html"})
    assert result.status_code in (303, 401)
    if result.status_code == 303:
        assert result.headers["location"].startswith("/login?next=")


@pytest.mark.parametrize("path", API)
def test_api_needs_a_token(admin: Admin, path: str) -> None:
    assert admin.client.simulate_get(path).status_code == 401
    bad = admin.client.simulate_get(path, headers={"Authorization": "Bearer fgt_nonsense"})
    assert bad.status_code == 401


def test_public_things_need_no_login(admin: Admin) -> None:
    assert admin.client.simulate_get("/healthz").json["ok"] is True
    assert "body" in admin.client.simulate_get("/static/style.css").text
    assert admin.client.simulate_get("/login").status_code == 200
    assert admin.client.simulate_get("/static/../app.py").status_code == 404


def test_session_cookie_is_httponly_and_strict(admin: Admin) -> None:
    browser = Browser(admin.client)
    result = browser.login("admin")
    assert result.status_code == 303
    cookie = result.cookies["faxgate_session"]
    assert cookie.http_only
    assert cookie.same_site == "Strict"
    assert not cookie.secure  # plain HTTP in this test
    assert browser.get("/").status_code == 200


def test_session_cookie_is_secure_with_tls(make_admin: Callable[..., Admin]) -> None:
    admin = make_admin(secure_cookies=True)
    result = Browser(admin.client).login("admin")
    assert result.cookies["faxgate_session"].secure


def test_wrong_password_then_rate_limit(admin: Admin) -> None:
    browser = Browser(admin.client)
    for _ in range(MAX_FAILURES_PER_USER):
        assert browser.login("alice", "wrong-password").status_code == 401
    limited = browser.login("alice", PASSWORD)
    assert limited.status_code == 429
    assert "Too many failed logins" in limited.text
    assert "faxgate_session" not in browser.cookies
    # Another user is not locked out by alice's failures.
    assert Browser(admin.client).login("bob").status_code == 303
    failures = admin.ledger.query("SELECT * FROM audit_log WHERE action = 'login.failed'")
    assert len(failures) == MAX_FAILURES_PER_USER


def test_login_form_without_its_token_is_refused(admin: Admin) -> None:
    browser = Browser(admin.client)
    browser.get("/login")
    result = browser.post(
        "/login", {"username": "admin", "password": PASSWORD, "csrf_token": "forged"}
    )
    assert result.status_code == 403
    assert "faxgate_session" not in browser.cookies


def test_form_without_csrf_token_is_refused(
    admin: Admin, browser: Callable[[str], Browser]
) -> None:
    b = browser("admin")
    before = len(admin.ledger.query("SELECT * FROM fax_devices"))
    form = {"extension": "100", "emails": "x@example.com"}
    assert b.post("/devices/new", form, csrf=False).status_code == 403
    assert b.post("/devices/new", {**form, "csrf_token": "wrong"}).status_code == 403
    assert len(admin.ledger.query("SELECT * FROM fax_devices")) == before
    b.get("/devices/new")
    assert b.post("/devices/new", form).status_code == 303
    assert len(admin.ledger.query("SELECT * FROM fax_devices")) == before + 1


def test_logout_ends_the_session(browser: Callable[[str], Browser]) -> None:
    b = browser("admin")
    old = dict(b.cookies)
    b.get("/")
    assert b.post("/logout").status_code == 303
    b.cookies = old  # a copied cookie is no use after logout
    assert b.get("/").status_code == 303


@pytest.mark.parametrize("path", ADMIN_ONLY)
def test_ordinary_user_cannot_open_admin_pages(
    browser: Callable[[str], Browser], path: str
) -> None:
    assert browser("alice").get(path).status_code == 403


def test_network_policy_refuses_other_networks(admin: Admin) -> None:
    outside = admin.client.simulate_get("/healthz", remote_addr="203.0.113.5")
    assert outside.status_code == 403
    inside = admin.client.simulate_get("/healthz", remote_addr="192.168.1.20")
    assert inside.status_code == 200


def test_login_redirects_only_inside_the_site(admin: Admin) -> None:
    browser = Browser(admin.client)
    browser.get("/login")
    result = browser.post(
        "/login", {"username": "admin", "password": PASSWORD, "next": "//evil.example/"}
    )
    assert result.headers["location"] == "/"


def test_security_headers(admin: Admin) -> None:
    headers = admin.client.simulate_get("/login").headers
    assert headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-store"
