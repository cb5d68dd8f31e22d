"""faxadmin under real gunicorn on 127.0.0.1: sessions shared by workers, API, signals."""

from __future__ import annotations

import re
import signal
import time

from faxadmin_server import PASSWORD, Client, Running


def test_health_and_login_across_workers(running_admin: Running) -> None:
    client = Client(running_admin.server.port)
    status, _headers, body = client.get("/healthz")
    assert status == 200
    assert b'"ok":true' in body
    assert client.get("/")[0] == 303  # not logged in
    assert client.login("admin", PASSWORD) == 303
    # Two workers: the session lives in the ledger, so every worker knows it.
    for _ in range(12):
        assert client.get("/")[0] == 200
    assert client.get("/settings/system")[0] == 200


def test_form_without_csrf_is_refused_by_the_server(running_admin: Running) -> None:
    client = Client(running_admin.server.port)
    client.login("admin", PASSWORD)
    client.get("/devices/new")
    status, _h, _b = client.post(
        "/devices/new", {"extension": "100", "emails": "a@example.com"}, csrf=False
    )
    assert status == 403
    assert client.post("/devices/new", {"extension": "100", "emails": "a@example.com"})[0] == 303
    assert b'data-extension="100"' in client.get("/devices")[2]


def test_api_token_round_trip(running_admin: Running) -> None:
    client = Client(running_admin.server.port)
    client.login("alice", PASSWORD)
    client.get("/account")
    page = client.post("/account", {"action": "token", "name": "it"})[2].decode()
    token = re.search(r'id="new-token">(fgt_[^<]+)<', page)
    assert token
    api = Client(running_admin.server.port)
    status, value = api.json("GET", "/api/v1/jobs", token.group(1))
    assert status == 200
    assert value == {"jobs": [], "next": None}
    status, value = api.json("GET", "/api/v1/devices", token.group(1))
    assert status == 403
    status, value = api.json("GET", "/api/v1/openapi.json", token.group(1))
    assert status == 200
    assert "/jobs" in value["paths"]


def test_sighup_keeps_serving_and_sigterm_stops(running_admin: Running) -> None:
    server = running_admin.server
    client = Client(server.port)
    server.process.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 20
    served = False
    while time.monotonic() < deadline and not served:
        try:
            served = client.get("/healthz")[0] == 200
        except OSError:
            time.sleep(0.2)
    assert served
    assert server.stop(timeout=15) == 0  # exited by itself on SIGTERM, not killed
