"""The web admin in a real browser against the running appliance.

Log in; create fax device 100; change the number of lines and apply (the lines restart and come
back); a user cannot see another user's fax (by URL either); a form posted without its CSRF
token is refused; a pending print job is completed; a fax sent by upload over the loopback trunk
shows in Sent and then in Received with a thumbnail and a PDF. Screenshots of the main pages go
to docs/screenshots/.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from admin_appliance import SCREENSHOTS, Appliance, print_job
from PIL import Image, ImageDraw
from pypdf import PdfReader

from faxgate import users
from faxgate.spool.ledger import Ledger

USER_PASSWORD = "user-pass-e2e-1"
LETTER_PS = b"""%!PS-Adobe-3.0
/Helvetica findfont 24 scalefont setfont
72 700 moveto (A printed letter, waiting for its fax number) show
showpage
"""


def login(page: Any, name: str, password: str) -> None:
    page.goto("/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()


def admin_page(new_page: Callable[[], Any], appliance: Appliance) -> Any:
    page = new_page()
    login(page, "admin", appliance.admin_password)
    return page


def ensure_user(appliance: Appliance, name: str, email: str) -> None:
    with Ledger.open(appliance.spool / "etc" / "faxgate.db") as ledger:
        if ledger.query_one("SELECT 1 FROM users WHERE name = ?", (name,)) is None:
            users.create(ledger, name, USER_PASSWORD, "user", "e2e", email=email)


def ensure_device_100(page: Any) -> None:
    page.goto("/devices")
    if page.locator('tr[data-extension="100"]').count():
        return
    page.click("#new-device")
    page.fill("input[name=extension]", "100")
    page.fill("input[name=name]", "Alice")
    page.fill("textarea[name=emails]", "alice@example.com")
    page.click("#save-device")
    page.wait_for_url("**/devices")


def fax_tiff(path: Path) -> None:
    image = Image.new("1", (1728, 600), 1)
    ImageDraw.Draw(image).rectangle((200, 100, 1500, 160), fill=0)
    image.save(path, "TIFF", compression="group4", dpi=(204, 196))


def test_create_fax_device_100(new_page: Callable[[], Any], appliance: Appliance) -> None:
    page = admin_page(new_page, appliance)
    ensure_device_100(page)
    row = page.locator('tr[data-extension="100"]')
    assert row.count() == 1
    assert "alice@example.com" in row.inner_text()


def line_states(page: Any) -> list[str]:
    answer = page.request.get("/status.json")
    assert answer.ok
    return [line["state"] for line in answer.json()["lines"]]


def program_pids(appliance: Appliance) -> dict[str, int]:
    programs = appliance.health()["programs"]
    assert isinstance(programs, list)
    return {p["name"]: p["pid"] for p in programs}


def test_change_lines_and_apply(new_page: Callable[[], Any], appliance: Appliance) -> None:
    page = admin_page(new_page, appliance)
    before = program_pids(appliance)
    page.goto("/settings/faxserver")
    page.fill('input[name="sys.fax.configure.lines.count"]', "2")
    page.click("#save")
    page.wait_for_selector("#pending")
    assert "sys.fax.configure.lines.count" in page.inner_text("#pending")
    page.click("#apply")
    page.wait_for_load_state()
    assert "Applied 1 change(s)" in page.inner_text("main")
    after = program_pids(appliance)
    assert after["iaxmodemd"] != before["iaxmodemd"]  # restarted
    assert after["smtpfaxd"] == before["smtpfaxd"]  # untouched
    deadline = time.monotonic() + 60
    states: list[str] = []
    while time.monotonic() < deadline:
        states = line_states(page)
        if states == ["idle", "idle"]:
            break
        time.sleep(0.5)
    assert states == ["idle", "idle"]  # two lines, back and idle
    page.goto("/")
    page.wait_for_function("document.querySelectorAll('#lines tbody tr').length === 2")


def test_form_without_csrf_token_is_refused(
    new_page: Callable[[], Any], appliance: Appliance
) -> None:
    page = admin_page(new_page, appliance)
    answer = page.request.post("/devices/new", form={"extension": "555", "emails": "x@example.com"})
    assert answer.status == 403
    page.goto("/devices")
    assert page.locator('tr[data-extension="555"]').count() == 0


def test_user_cannot_see_another_users_fax(
    new_page: Callable[[], Any], appliance: Appliance
) -> None:
    ensure_device_100(admin_page(new_page, appliance))
    ensure_user(appliance, "alice", "alice@example.com")
    ensure_user(appliance, "bob", "bob@example.com")
    tiff = appliance.spool / "recvq" / "fax90000001.tif"
    fax_tiff(tiff)
    with Ledger.open(appliance.spool / "etc" / "faxgate.db") as ledger:
        device = ledger.query_one("SELECT id FROM fax_devices WHERE extension = '100'")
        assert device is not None
        with ledger.transaction() as conn:
            fax_id = conn.execute(
                "INSERT INTO received_faxes (tiff_path, dnid, caller_id, pages, state,"
                " received_at, device_id) VALUES (?, '100', '0309999', 1, 'delivered', ?, ?)",
                (str(tiff), time.time(), device["id"]),
            ).lastrowid
    alice = new_page()
    login(alice, "alice", USER_PASSWORD)
    alice.goto("/faxes/received")
    assert alice.locator(f'tr[data-fax="{fax_id}"]').count() == 1
    bob = new_page()
    login(bob, "bob", USER_PASSWORD)
    bob.goto("/faxes/received")
    assert bob.locator(f'tr[data-fax="{fax_id}"]').count() == 0
    for path in (f"/faxes/received/{fax_id}", f"/faxes/received/{fax_id}/fax.pdf",
                 f"/faxes/received/{fax_id}/thumb.png"):  # fmt: skip
        assert bob.request.get(path).status == 404
        assert alice.request.get(path).status == 200


def test_complete_a_pending_print_job(new_page: Callable[[], Any], appliance: Appliance) -> None:
    """Printed over IPP without a number (print gateway mode 1): alice sends it from the page."""
    ensure_user(appliance, "alice", "alice@example.com")
    title = "Letter to 100"
    assert print_job(appliance.ipp_port, "alice", title, LETTER_PS) == 200
    database = appliance.spool / "etc" / "faxgate.db"
    held = None
    deadline = time.monotonic() + 60
    while held is None and time.monotonic() < deadline:
        with Ledger.open(database) as ledger:
            held = ledger.query_one(
                "SELECT id FROM pending_print_jobs WHERE owner = 'alice' AND title = ?", (title,)
            )
        time.sleep(0.5)
    assert held is not None, "faxqueued did not hold the print job"
    page = new_page()
    login(page, "alice", USER_PASSWORD)
    page.goto("/printjobs")
    row = page.locator(f'tr[data-printjob="{held["id"]}"]')
    assert title in row.inner_text()
    row.locator("input[name=numbers]").fill("100")
    row.locator("button", has_text="Send").click()
    page.wait_for_load_state()
    assert "sent (submission" in page.inner_text("main")
    assert page.locator(f'tr[data-printjob="{held["id"]}"]').count() == 0
    submission = int(re.search(r"submission (\d+)", page.inner_text("main")).group(1))  # type: ignore[union-attr]
    with Ledger.open(database) as ledger:
        row_ = ledger.query_one("SELECT kind, owner FROM submissions WHERE id = ?", (submission,))
    assert row_ is not None
    assert (row_["kind"], row_["owner"]) == ("upload", "alice")


@pytest.mark.slow
def test_send_by_upload_over_loopback_shows_in_sent_and_received(
    new_page: Callable[[], Any], appliance: Appliance, tmp_path: Path
) -> None:
    pytest.importorskip("faxgate.iaxmodemd.main", reason="iaxmodemd is not written yet")
    pytest.importorskip("faxgate.faxqueued.main", reason="faxqueued is not written yet")
    dashboard = admin_page(new_page, appliance)
    ensure_device_100(dashboard)
    dashboard.goto("/")  # stays open: only its script's polling can show the call
    ensure_user(appliance, "alice", "alice@example.com")
    letter = tmp_path / "letter.txt"
    letter.write_text("Dear Alice,\n\nthis fax went over the loopback trunk.\n")
    page = new_page()
    login(page, "alice", USER_PASSWORD)
    page.goto("/send")
    page.fill("textarea[name=numbers]", "100")
    page.set_input_files("input[name=files]", str(letter))
    page.click("#send")
    page.wait_for_url("**/faxes/sent")
    # The live line state: the dashboard, never reloaded, shows a line sending this fax.
    dashboard.wait_for_selector("#lines td.state-sending", timeout=240_000)
    deadline = time.monotonic() + 300
    state = ""
    while time.monotonic() < deadline:
        page.goto("/faxes/sent")
        rows = page.locator("tr[data-job]")
        if rows.count():
            state = rows.first.locator("td.state").inner_text()
            if state in ("done", "failed"):
                break
        time.sleep(3)
    assert state == "done", appliance.log.read_text(errors="replace")[-4000:]
    page.locator("tr[data-job] a").first.click()
    page.wait_for_load_state()
    session_log = page.locator("pre.log").first.inner_text()
    assert session_log.strip()
    assert not session_log.startswith("/")  # the log itself, not the name of its file
    first_page = page.locator("img.page").first
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=first_page.element_handle()
    )
    fax_row = None
    while time.monotonic() < deadline:
        page.goto("/faxes/received?number=&user=&q=")
        rows = page.locator("tr[data-fax]").filter(has_not_text="0309999")
        if rows.count():
            fax_row = rows.first
            break
        time.sleep(2)
    assert fax_row is not None, "the fax never showed in Received"
    thumbnail = fax_row.locator("img.thumb")
    thumbnail.scroll_into_view_if_needed()
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle()
    )
    fax_id = fax_row.get_attribute("data-fax")
    pdf = page.request.get(f"/faxes/received/{fax_id}/fax.pdf")
    assert pdf.ok
    reader = PdfReader(io.BytesIO(pdf.body()))
    assert len(reader.pages) >= 1


SHOTS = [
    ("login", "/login", False),
    ("dashboard", "/", True),
    ("fax-server", "/settings/faxserver", True),
    ("email-server", "/settings/mail", True),
    ("fax-devices", "/devices", True),
    ("system-settings", "/settings/system?q=faxprint", True),
    ("sent", "/faxes/sent", True),
    ("received", "/faxes/received", True),
    ("queue", "/queue", True),
    ("send", "/send", True),
    ("maintenance", "/maintenance", True),
    ("users", "/users", True),
]


def test_screenshots_of_the_main_pages(new_page: Callable[[], Any], appliance: Appliance) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    anonymous = new_page()
    page = admin_page(new_page, appliance)
    for name, path, logged_in in SHOTS:
        target = page if logged_in else anonymous
        target.goto(path)
        target.wait_for_load_state("networkidle")
        assert re.search(r"<h1>", target.content())
        shot = SCREENSHOTS / f"{name}.png"
        target.screenshot(path=str(shot), full_page=False)
        assert Image.open(shot).size == (1280, 900)
    for kind in ("received", "sent"):
        page.goto(f"/faxes/{kind}")
        first = page.locator("tr[data-fax] a, tr[data-job] a").first
        if first.count():
            first.click()
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(SCREENSHOTS / f"{kind}-detail.png"))
