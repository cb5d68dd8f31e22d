"""Settings with pending → apply, fax devices, users, maintenance, audit: through the pages."""

from __future__ import annotations

import json
from collections.abc import Callable

from admin_testing import Admin, Browser

from faxgate.settings import load_settings

LINES = "sys.fax.configure.lines.count"


def effective(admin: Admin, name: str) -> object:
    return load_settings(ledger=admin.ledger, config_path=admin.config_path, environ={}).get(name)


def test_fax_server_change_is_pending_until_applied(
    admin: Admin, browser: Callable[[str], Browser]
) -> None:
    b = browser("admin")
    page = b.get("/settings/faxserver")
    assert f'name="{LINES}"' in page.text
    assert b.post("/settings/faxserver", {LINES: "2"}).status_code == 303
    pending = b.get("/settings/faxserver")
    assert "1 pending change(s)" in pending.text
    assert effective(admin, LINES) == 4  # saved, not in effect
    assert admin.told.calls == []
    applied = b.post("/settings/apply", {"back": "/settings/faxserver"})
    assert applied.headers["location"] == "/settings/faxserver"
    assert effective(admin, LINES) == 2
    # The lines changed: iaxmodemd and faxqueued restart (restart=True keys), nothing else.
    assert admin.told.calls == [({"iaxmodemd", "faxqueued"}, set())]
    after = b.get("/settings/faxserver")
    assert "Applied 1 change(s)" in after.text
    assert "pending change(s)" not in after.text
    actions = [r["action"] for r in admin.ledger.query("SELECT action FROM audit_log")]
    assert "settings.save" in actions
    assert "settings.apply" in actions


def test_bad_value_is_refused_with_the_reason(
    admin: Admin, browser: Callable[[str], Browser]
) -> None:
    b = browser("admin")
    b.get("/settings/faxserver")
    result = b.post("/settings/faxserver", {LINES: "0"})
    assert result.status_code == 400
    assert "must be at least 1" in result.text
    assert admin.ledger.query("SELECT * FROM settings_pending") == []


def test_secret_left_empty_keeps_its_value(admin: Admin, browser: Callable[[str], Browser]) -> None:
    b = browser("admin")
    b.get("/settings/faxserver")
    b.post("/settings/faxserver", {"sys.fax.configure.trunk.secret": "s3cret"})
    b.post("/settings/apply")
    b.get("/settings/faxserver")
    b.post("/settings/faxserver", {"sys.fax.configure.trunk.secret": ""})
    assert admin.ledger.query("SELECT * FROM settings_pending") == []
    assert effective(admin, "sys.fax.configure.trunk.secret") == "s3cret"
    assert "s3cret" not in b.get("/settings/faxserver").text


def test_discard_forgets_pending_changes(admin: Admin, browser: Callable[[str], Browser]) -> None:
    b = browser("admin")
    b.get("/settings/faxserver")
    b.post("/settings/faxserver", {"sys.fax.configure.station.ident": "+49 30 1234"})
    b.post("/settings/discard", {"back": "/settings/faxserver"})
    assert admin.ledger.query("SELECT * FROM settings_pending") == []


def test_system_settings_lists_every_key_and_searches(
    admin: Admin, browser: Callable[[str], Browser]
) -> None:
    b = browser("admin")
    everything = b.get("/settings/system").text
    assert "sys.fax.configure.faxprint.priority" in everything
    assert "sys.fax.configure.retention.days" in everything
    found = b.get("/settings/system", q="retention").text
    assert "sys.fax.configure.retention.days" in found
    assert "sys.fax.configure.faxprint.priority" not in found
    b.post("/settings/system", {"key": "sys.fax.configure.retention.days", "value": "7"})
    row = admin.ledger.query_one("SELECT value FROM settings_pending")
    assert row is not None
    assert json.loads(row["value"]) == 7
    b.get("/settings/system")
    b.post("/settings/system", {"key": "sys.fax.configure.retention.days", "action": "reset"})
    row = admin.ledger.query_one("SELECT value FROM settings_pending")
    assert row is not None
    assert row["value"] is None


def test_test_mail_goes_to_the_outbox(admin: Admin, browser: Callable[[str], Browser]) -> None:
    b = browser("admin")
    b.get("/settings/mail")
    b.post("/settings/mail/test", {"to": "it@example.com"})
    queued = list(admin.spool.outbox.glob("*.msg"))
    assert len(queued) == 1
    assert b"it@example.com" in queued[0].read_bytes()
    assert "it@example.com" in b.get("/outbox").text


def test_fax_device_create_edit_delete(admin: Admin, browser: Callable[[str], Browser]) -> None:
    b = browser("admin")
    b.get("/devices/new")
    created = b.post(
        "/devices/new",
        {
            "extension": "100",
            "name": "Sales",
            "emails": "a@example.com, b@example.com",
            "format": "tif",
        },
    )
    assert created.status_code == 303
    listing = b.get("/devices").text
    assert 'data-extension="100"' in listing
    assert "a@example.com, b@example.com" in listing
    assert "group" in listing  # two addresses make a group device
    b.get("/devices/100")
    b.post("/devices/100", {"emails": "c@example.com", "format": "pdf", "name": "Sales"})
    row = admin.ledger.query("SELECT email FROM fax_device_emails")
    assert [r["email"] for r in row] == ["c@example.com"]
    duplicate = b.post("/devices/new", {"extension": "100", "emails": "x@example.com"})
    assert duplicate.status_code == 400
    assert "has a fax device already" in duplicate.text
    b.get("/devices/100")
    b.post("/devices/100", {"action": "delete"})
    assert admin.ledger.query("SELECT * FROM fax_devices") == []
    audit = [r["action"] for r in admin.ledger.query("SELECT action FROM audit_log")]
    assert {"device.add", "device.update", "device.remove"} <= set(audit)


def test_users_are_managed_by_admins(admin: Admin, browser: Callable[[str], Browser]) -> None:
    b = browser("admin")
    b.get("/users")
    b.post("/users", {"name": "carol", "password": "long-enough-1", "role": "user"})
    assert Browser(admin.client).login("carol", "long-enough-1").status_code == 303
    b.get("/users")
    b.post("/users/carol/delete")
    assert Browser(admin.client).login("carol", "long-enough-1").status_code == 401
    b.get("/users")
    b.post("/users/admin/delete")
    assert "cannot delete yourself" in b.get("/users").text


def test_password_change_needs_the_current_one(
    admin: Admin, browser: Callable[[str], Browser]
) -> None:
    b = browser("alice")
    b.get("/account")
    refused = b.post(
        "/account", {"action": "password", "current": "nope", "password": "new-password-1"}
    )
    assert refused.status_code == 400
    b.post(
        "/account",
        {"action": "password", "current": "correct-horse-9", "password": "new-password-1"},
    )
    assert Browser(admin.client).login("alice", "new-password-1").status_code == 303


def test_maintenance_cleanup_now_reports_a_summary(
    admin: Admin, browser: Callable[[str], Browser]
) -> None:
    b = browser("admin")
    (admin.spool.log / "xferfaxlog").write_text("line one\nline two\n")
    page = b.get("/maintenance").text
    assert "Clean up fax server" in page
    assert "xferfaxlog" in b.get("/maintenance", log="xferfaxlog").text
    assert b.get("/maintenance", log="../etc/faxgate.db").status_code == 404
    b.post("/maintenance/cleanup")
    assert "Clean up done:" in b.get("/maintenance").text
    assert admin.ledger.query_one("SELECT 1 FROM audit_log WHERE action = 'queue.cleanup'")


def test_dashboard_shows_lines_queue_and_attention(
    admin: Admin, browser: Callable[[str], Browser]
) -> None:
    (admin.spool.status / "1").write_text("idle\n")
    (admin.spool.status / "2").write_text("sending page 2/5 at 14400\n")
    (admin.spool.bad / "broken.eml").write_text("x")
    b = browser("admin")
    page = b.get("/").text
    assert "sending page 2/5 at 14400" in page
    assert "1 file(s) in bad/" in page
    status = b.get("/status.json").json
    assert [line["state"] for line in status["lines"]] == ["idle", "sending"]


def test_metrics_in_prometheus_format(admin: Admin) -> None:
    with admin.ledger.transaction() as conn:
        conn.execute(
            "INSERT INTO jobs (number, state, send_at, kill_at, created_at, updated_at,"
            " pages_sent) VALUES ('100', 'done', 0, 0, 0, 0, 3)"
        )
    b = Browser(admin.client)
    b.login("admin")
    text = b.get("/metrics").text
    assert "# TYPE faxgate_jobs gauge" in text
    assert 'faxgate_jobs{state="done"} 1' in text
    assert "faxgate_pages_sent_total 3" in text
    assert "faxgate_outbox_messages 0" in text


def test_retention_is_pending_and_applied_from_maintenance(
    admin: Admin, browser: Callable[[str], Browser]
) -> None:
    b = browser("admin")
    b.get("/maintenance")
    b.post("/maintenance/retention", {"sys.fax.configure.retention.days": "14"})
    page = b.get("/maintenance").text
    assert "1 pending change(s)" in page
    assert effective(admin, "sys.fax.configure.retention.days") == 30
    applied = b.post("/settings/apply", {"back": "/maintenance"})
    assert applied.headers["location"] == "/maintenance"
    assert effective(admin, "sys.fax.configure.retention.days") == 14
    assert admin.told.calls == [(set(), {"faxqueued"})]  # reloaded, not restarted
