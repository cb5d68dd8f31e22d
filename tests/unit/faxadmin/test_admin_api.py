"""The REST API with per-user tokens, and its OpenAPI document."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from admin_testing import Admin, Browser, add_device, add_job, add_received, fax_tiff, multipart

from faxgate.faxadmin.openapi import openapi_document


def token_for(browser: Browser) -> str:
    browser.get("/account")
    page = browser.post("/account", {"action": "token", "name": "tests"}).text
    found = re.search(r'id="new-token">(fgt_[^<]+)<', page)
    assert found, page
    return found.group(1)


@pytest.fixture
def tokens(browser: Callable[[str], Browser]) -> dict[str, dict[str, str]]:
    return {
        name: {"Authorization": f"Bearer {token_for(browser(name))}"} for name in ("admin", "alice")
    }


def test_token_is_stored_hashed_and_can_be_revoked(
    admin: Admin, browser: Callable[[str], Browser]
) -> None:
    b = browser("alice")
    token = token_for(b)
    stored = admin.ledger.query_one("SELECT token_hash FROM api_tokens")
    assert stored is not None
    assert token not in stored["token_hash"]
    auth = {"Authorization": f"Bearer {token}"}
    assert admin.client.simulate_get("/api/v1/jobs", headers=auth).status_code == 200
    token_id = admin.ledger.query_one("SELECT id FROM api_tokens")
    assert token_id is not None
    b.get("/account")
    b.post("/account", {"action": "revoke", "token_id": str(token_id["id"])})
    assert admin.client.simulate_get("/api/v1/jobs", headers=auth).status_code == 401


def test_jobs_list_is_scoped_and_paged(admin: Admin, tokens: dict[str, dict[str, str]]) -> None:
    for i in range(7):
        add_job(admin.ledger, "alice", f"0301{i}", created_at=1_700_000_000 + i)
    add_job(admin.ledger, "bob", "0309")
    client = admin.client
    first = client.simulate_get("/api/v1/jobs", params={"limit": "5"}, headers=tokens["alice"])
    assert [j["owner"] for j in first.json["jobs"]] == ["alice"] * 5
    second = client.simulate_get(
        "/api/v1/jobs", params={"limit": "5", "after": first.json["next"]}, headers=tokens["alice"]
    )
    assert len(second.json["jobs"]) == 2
    assert second.json["next"] is None
    every = client.simulate_get("/api/v1/jobs", params={"limit": "50"}, headers=tokens["admin"])
    assert len(every.json["jobs"]) == 8


def test_job_actions_over_the_api(admin: Admin, tokens: dict[str, dict[str, str]]) -> None:
    job = add_job(admin.ledger, "alice", "0301", "sleeping")
    bobs = add_job(admin.ledger, "bob", "0302", "sleeping")
    client = admin.client
    result = client.simulate_post(
        f"/api/v1/jobs/{job}/priority", json={"priority": 10}, headers=tokens["alice"]
    )
    assert result.status_code == 200
    assert result.json["job"]["priority"] == 10
    assert (
        client.simulate_post(f"/api/v1/jobs/{bobs}/cancel", headers=tokens["alice"]).status_code
        == 404
    )
    cancelled = client.simulate_delete(f"/api/v1/jobs/{job}", headers=tokens["alice"])
    assert cancelled.json["job"]["state"] == "cancelled"
    again = client.simulate_delete(f"/api/v1/jobs/{job}", headers=tokens["alice"])
    assert again.status_code == 409


def test_submit_a_fax_over_the_api(admin: Admin, tokens: dict[str, dict[str, str]]) -> None:
    body, content_type = multipart(
        {"numbers": "100"}, [("files", "page.txt", b"Hello", "text/plain")]
    )
    result = admin.client.simulate_post(
        "/api/v1/jobs", body=body, headers={**tokens["alice"], "Content-Type": content_type}
    )
    assert result.status_code == 202
    submission = result.json["submission"]
    state = admin.client.simulate_get(f"/api/v1/submissions/{submission}", headers=tokens["alice"])
    assert state.json["state"] == "new"
    assert state.json["jobs"] == []
    bob = admin.client.simulate_get(f"/api/v1/submissions/{submission}", headers={})
    assert bob.status_code == 401


def test_received_download_over_the_api(admin: Admin, tokens: dict[str, dict[str, str]]) -> None:
    tiff = fax_tiff(admin.spool.recvq / "fax00000009.tif", pages=1)
    device = add_device(admin.ledger, "100", "alice@example.com")
    fax = add_received(admin.ledger, str(tiff), "100", device_id=device)
    listing = admin.client.simulate_get("/api/v1/received", headers=tokens["alice"])
    assert [r["id"] for r in listing.json["received"]] == [fax]
    pdf = admin.client.simulate_get(f"/api/v1/received/{fax}/pdf", headers=tokens["alice"])
    assert pdf.content.startswith(b"%PDF")


def test_devices_and_settings_are_for_admins(
    admin: Admin, tokens: dict[str, dict[str, str]]
) -> None:
    client = admin.client
    assert client.simulate_get("/api/v1/devices", headers=tokens["alice"]).status_code == 403
    created = client.simulate_post(
        "/api/v1/devices",
        json={"extension": "100", "emails": ["a@example.com"]},
        headers=tokens["admin"],
    )
    assert created.status_code == 201
    assert created.json["kind"] == "personal"
    changed = client.simulate_put(
        "/api/v1/devices/100", json={"format": "tif"}, headers=tokens["admin"]
    )
    assert changed.json["format"] == "tif"
    bad = client.simulate_post(
        "/api/v1/devices", json={"extension": "1x", "emails": ["a"]}, headers=tokens["admin"]
    )
    assert bad.status_code == 400
    assert client.simulate_delete("/api/v1/devices/100", headers=tokens["admin"]).status_code == 204
    name = "sys.fax.configure.lines.count"
    put = client.simulate_put(
        f"/api/v1/settings/{name}", json={"value": 3}, headers=tokens["admin"]
    )
    assert put.json["pending"] is True
    assert put.json["value"] == 4
    applied = client.simulate_post("/api/v1/settings/apply", headers=tokens["admin"])
    assert "Applied 1 change(s)" in applied.json["result"]
    assert (
        client.simulate_get(f"/api/v1/settings/{name}", headers=tokens["admin"]).json["value"] == 3
    )
    wrong = client.simulate_put(
        f"/api/v1/settings/{name}", json={"value": 0}, headers=tokens["admin"]
    )
    assert wrong.status_code == 400
    assert (
        client.simulate_put(
            f"/api/v1/settings/{name}", json={"value": 2}, headers=tokens["alice"]
        ).status_code
        == 403
    )


def test_secrets_are_masked_in_the_api(admin: Admin, tokens: dict[str, dict[str, str]]) -> None:
    name = "sys.fax.configure.trunk.secret"
    admin.client.simulate_put(
        f"/api/v1/settings/{name}", json={"value": "hunter22"}, headers=tokens["admin"]
    )
    admin.client.simulate_post("/api/v1/settings/apply", headers=tokens["admin"])
    listing = admin.client.simulate_get("/api/v1/settings", headers=tokens["admin"]).text
    assert "hunter22" not in listing


def test_openapi_document_names_every_api_route(
    admin: Admin, tokens: dict[str, dict[str, str]]
) -> None:
    served = admin.client.simulate_get("/api/v1/openapi.json", headers=tokens["alice"]).json
    assert served["openapi"].startswith("3.")
    assert served == openapi_document()
    described = set(served["paths"])
    for path in ("/jobs", "/jobs/{job_id}", "/received/{fax_id}/{kind}", "/devices/{extension}",
                 "/settings/{name}", "/settings/apply", "/cleanup", "/lines", "/printjobs"):  # fmt: skip
        assert path in described
    for item in served["paths"].values():
        for operation in item.values():
            assert "401" in operation["responses"]


def test_every_api_route_and_method_is_documented(admin: Admin) -> None:
    import falcon.inspect

    served: set[tuple[str, str]] = set()
    for route in falcon.inspect.inspect_app(admin.client.app).routes:
        if not route.path.startswith("/api/v1/") or route.path.endswith("openapi.json"):
            continue
        path = route.path.removeprefix("/api/v1").replace(":int}", "}")
        for method in route.methods:
            if not method.internal and method.method != "OPTIONS":
                served.add((path, method.method.lower()))
    documented = {
        (path, method) for path, item in openapi_document()["paths"].items() for method in item
    }
    # "{action}" is one route serving the documented /cancel, /retry, /suspend, ...
    concrete_actions = {
        p for p, _ in documented if p.startswith("/jobs/{job_id}/") and "{" not in p[15:]
    }
    assert concrete_actions >= {"/jobs/{job_id}/cancel", "/jobs/{job_id}/priority"}
    served.discard(("/jobs/{job_id}/{action}", "post"))
    assert served <= documented, served - documented
