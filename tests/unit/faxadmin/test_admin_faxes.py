"""Information › Fax server: who sees what, pages, CSV, images, downloads, queue, upload."""

from __future__ import annotations

import io
import json
import tarfile
import time
from collections.abc import Callable

import pytest
from admin_testing import Admin, Browser, add_device, add_job, add_received, fax_tiff
from PIL import Image
from pypdf import PdfReader

from faxgate.faxadmin.faxlists import Cursor, FilterError, parse_date


def test_cursor_round_trip_and_damage() -> None:
    cursor = Cursor(1764000000.123456, 42)
    assert Cursor.decode(cursor.encode()) == cursor
    assert Cursor.decode("") is None
    with pytest.raises(FilterError):
        Cursor.decode("1; DROP TABLE jobs")


def test_dates_are_checked() -> None:
    start = parse_date("2026-01-31")
    end = parse_date("2026-01-31", end_of_day=True)
    assert start is not None
    assert end is not None
    assert end - start == 86400
    with pytest.raises(FilterError):
        parse_date("31.01.2026")
    with pytest.raises(FilterError):
        parse_date("2026-02-30")


@pytest.fixture
def faxes(admin: Admin) -> dict[str, int]:
    """alice's and bob's jobs, and a fax received on each one's fax device."""
    tiff = fax_tiff(admin.spool.recvq / "fax00000001.tif")
    other = fax_tiff(admin.spool.recvq / "fax00000002.tif", pages=1)
    doc = fax_tiff(admin.spool.docq / "doc1.tif")
    alice_device = add_device(admin.ledger, "100", "alice@example.com")
    bob_device = add_device(admin.ledger, "200", "bob@example.com")
    return {
        "alice_job": add_job(admin.ledger, "alice", "0301111", document=doc, spool=admin.spool),
        "bob_job": add_job(admin.ledger, "bob", "0302222"),
        "alice_fax": add_received(admin.ledger, str(tiff), "100", device_id=alice_device),
        "bob_fax": add_received(admin.ledger, "recvq/" + other.name, "200", device_id=bob_device),
    }


def test_users_see_only_their_own_faxes(
    faxes: dict[str, int], browser: Callable[[str], Browser]
) -> None:
    alice = browser("alice")
    sent = alice.get("/faxes/sent").text
    assert f'data-job="{faxes["alice_job"]}"' in sent
    assert f'data-job="{faxes["bob_job"]}"' not in sent
    received = alice.get("/faxes/received").text
    assert f'data-fax="{faxes["alice_fax"]}"' in received
    assert f'data-fax="{faxes["bob_fax"]}"' not in received
    everything = browser("admin").get("/faxes/received").text
    assert f'data-fax="{faxes["bob_fax"]}"' in everything


@pytest.mark.parametrize(
    "path",
    [
        "/faxes/received/{bob_fax}",
        "/faxes/received/{bob_fax}/fax.pdf",
        "/faxes/received/{bob_fax}/fax.tif",
        "/faxes/received/{bob_fax}/thumb.png",
        "/faxes/received/{bob_fax}/page-1.png",
        "/faxes/sent/{bob_job}",
        "/api/v1/received/{bob_fax}",
    ],
)
def test_another_users_fax_is_not_found_by_url(
    faxes: dict[str, int], browser: Callable[[str], Browser], path: str
) -> None:
    alice = browser("alice")
    assert alice.get(path.format(**faxes)).status_code in (401, 404)
    own = path.replace("bob", "alice").format(**faxes)
    if "/api/" not in own:
        assert alice.get(own).status_code == 200


def test_received_detail_pages_and_downloads(
    faxes: dict[str, int], browser: Callable[[str], Browser]
) -> None:
    b = browser("admin")
    fax = faxes["alice_fax"]
    detail = b.get(f"/faxes/received/{fax}").text
    assert f"/faxes/received/{fax}/page-2.png" in detail
    assert "alice@example.com" in detail
    page = b.get(f"/faxes/received/{fax}/page-2.png")
    image = Image.open(io.BytesIO(page.content))
    assert image.format == "PNG"
    assert image.width == 850
    thumb = Image.open(io.BytesIO(b.get(f"/faxes/received/{fax}/thumb.png").content))
    assert thumb.width == 200
    # A fine page (196 lpi) keeps its shape: height/width as on paper.
    assert abs(thumb.height / thumb.width - (400 / 196) / (1728 / 204)) < 0.02
    assert b.get(f"/faxes/received/{fax}/page-3.png").status_code == 404
    pdf = b.get(f"/faxes/received/{fax}/fax.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert len(PdfReader(io.BytesIO(pdf.content)).pages) == 2
    tif = b.get(f"/faxes/received/{fax}/fax.tif")
    assert tif.content[:2] in (b"II", b"MM")


def test_sent_detail_shows_pages_and_calls(
    admin: Admin, faxes: dict[str, int], browser: Callable[[str], Browser]
) -> None:
    job = faxes["alice_job"]
    with admin.ledger.transaction() as conn:
        conn.execute(
            "INSERT INTO calls (job_id, direction, line, number, state, outcome, message, pages,"
            " session_log, started_at, ended_at) VALUES (?, 'out', '1', '0301111', 'ended',"
            " 'done', 'sent', 2, 'T.30 phase B: DIS received', ?, ?)",
            (job, time.time(), time.time()),
        )
    text = browser("alice").get(f"/faxes/sent/{job}").text
    assert "T.30 phase B: DIS received" in text
    assert f"/faxes/sent/{job}/page-2.png" in text
    assert "/fax.pdf" in text


def test_keyset_pages_do_not_overlap_and_filters_apply(
    admin: Admin, browser: Callable[[str], Browser]
) -> None:
    base = time.time() - 1000
    for i in range(120):
        add_job(admin.ledger, "alice", f"030{i:04d}", "done" if i % 3 else "failed", base + i)
    b = browser("admin")
    seen: list[str] = []
    page = b.get("/faxes/sent")
    while True:
        seen += [part.split('"')[0] for part in page.text.split('data-job="')[1:]]
        if 'id="next-page"' not in page.text:
            break
        after = page.text.split("after=")[1].split('"')[0].replace("&amp;", "&")
        page = b.get("/faxes/sent", after=after.split("&")[0])
    assert len(seen) == 120
    assert len(set(seen)) == 120
    failed = b.get("/faxes/sent", state="failed").text
    assert failed.count('data-job="') == 40
    one = b.get("/faxes/sent", number="0300007").text
    assert one.count('data-job="') == 1
    assert b.get("/faxes/sent", state="nonsense").status_code == 400


def test_csv_export_has_every_matching_row(admin: Admin, browser: Callable[[str], Browser]) -> None:
    for i in range(600):
        add_job(admin.ledger, "bob", f"040{i:04d}", created_at=1_700_000_000 + i)
    add_job(admin.ledger, "alice", "0509999")
    text = browser("bob").get("/faxes/sent.csv").text
    lines = text.strip().splitlines()
    assert lines[0].startswith("id,created_at,number")
    assert len(lines) == 601  # bob's 600 rows, not alice's
    assert "0509999" not in text


def test_queue_actions_and_ownership(admin: Admin, browser: Callable[[str], Browser]) -> None:
    alice_job = add_job(admin.ledger, "alice", "0301", "sleeping")
    bob_job = add_job(admin.ledger, "bob", "0302", "pending")
    alice = browser("alice")
    queue = alice.get("/queue").text
    assert f'data-job="{alice_job}"' in queue
    assert f'data-job="{bob_job}"' not in queue
    assert alice.post(f"/queue/{bob_job}/cancel").status_code == 404
    alice.get("/queue")
    alice.post(f"/queue/{alice_job}/priority", {"priority": "17"})
    alice.get("/queue")
    alice.post(f"/queue/{alice_job}/suspend")
    row = admin.ledger.query_one("SELECT state, priority FROM jobs WHERE id = ?", (alice_job,))
    assert row is not None
    assert (row["state"], row["priority"]) == ("suspended", 17)
    alice.get("/queue")
    alice.post(f"/queue/{alice_job}/resume")
    alice.get("/queue")
    alice.post(f"/queue/{alice_job}/cancel")
    row = admin.ledger.query_one("SELECT state FROM jobs WHERE id = ?", (alice_job,))
    assert row is not None
    assert row["state"] == "cancelled"
    bob_row = admin.ledger.query_one("SELECT state FROM jobs WHERE id = ?", (bob_job,))
    assert bob_row is not None
    assert bob_row["state"] == "pending"
    alice.get("/queue")
    alice.post(f"/queue/{alice_job}/suspend")
    assert "Not possible" in alice.get("/queue").text


def test_send_a_fax_by_upload_spools_a_submission(
    admin: Admin, browser: Callable[[str], Browser]
) -> None:
    alice = browser("alice")
    alice.get("/send")
    result = alice.post_multipart(
        "/send",
        {"numbers": "100, 0301234", "cover": "Hello Bob", "priority": "50"},
        [("files", "letter.pdf", b"%PDF-1.4 test", "application/pdf")],
    )
    assert result.status_code == 303, result.text
    row = admin.ledger.query_one("SELECT * FROM submissions")
    assert row is not None
    assert (row["kind"], row["owner"]) == ("upload", "alice")
    params = json.loads(row["params"])
    assert params["numbers"] == ["100", "0301234"]
    assert params["priority"] == 50
    with tarfile.open(admin.spool.incoming / row["path"]) as archive:
        contents = [archive.extractfile(m).read() for m in archive.getmembers()]  # type: ignore[union-attr]
    assert contents == [b"Hello Bob", b"%PDF-1.4 test"]  # the cover text is the first page


def test_send_without_a_file_or_with_bad_number_is_refused(
    admin: Admin, browser: Callable[[str], Browser]
) -> None:
    alice = browser("alice")
    alice.get("/send")
    no_file = alice.post_multipart("/send", {"numbers": "100"}, [])
    assert no_file.status_code == 400
    assert "choose at least one file" in no_file.text
    alice.get("/send")
    bad = alice.post_multipart(
        "/send", {"numbers": "call me"}, [("files", "a.txt", b"x", "text/plain")]
    )
    assert bad.status_code == 400
    assert admin.ledger.query("SELECT * FROM submissions") == []


def test_upload_without_csrf_token_is_refused(
    admin: Admin, browser: Callable[[str], Browser]
) -> None:
    alice = browser("alice")
    result = alice.post_multipart(
        "/send", {"numbers": "100"}, [("files", "a.txt", b"x", "text/plain")], csrf=False
    )
    assert result.status_code == 403
    assert admin.ledger.query("SELECT * FROM submissions") == []


def test_pending_print_jobs_send_and_delete(
    admin: Admin, browser: Callable[[str], Browser]
) -> None:
    def held(owner: str, name: str) -> int:
        (admin.spool.docq / name).write_bytes(b"%PDF-1.4 held")
        with admin.ledger.transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO pending_print_jobs (owner, title, path, mime_type, created_at)"
                " VALUES (?, ?, ?, 'application/pdf', ?)",
                (owner, f"{owner}'s letter", name, time.time()),
            )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    mine, theirs, other = held("alice", "p1.pdf"), held("bob", "p2.pdf"), held("alice", "p3.pdf")
    alice = browser("alice")
    page = alice.get("/printjobs").text
    assert f'data-printjob="{mine}"' in page
    assert f'data-printjob="{theirs}"' not in page
    assert alice.post(f"/printjobs/{theirs}/delete").status_code == 404
    alice.get("/printjobs")
    alice.post(f"/printjobs/{mine}/send", {"numbers": "100"})
    submission = admin.ledger.query_one("SELECT * FROM submissions")
    assert submission is not None
    assert submission["owner"] == "alice"
    alice.get("/printjobs")
    alice.post(f"/printjobs/{other}/delete")
    left = [r["id"] for r in admin.ledger.query("SELECT id FROM pending_print_jobs")]
    assert left == [theirs]


@pytest.mark.parametrize(
    "cursor", ["1.5_99999999999999999999999", "inf_3", "nan_3", "1e999_2", "_", "3"]
)
def test_cursor_out_of_range_is_a_filter_error(cursor: str) -> None:
    with pytest.raises(FilterError):
        Cursor.decode(cursor)


def test_id_beyond_sqlite_range_is_not_found(browser: Callable[[str], Browser]) -> None:
    b = browser("admin")
    assert b.get("/faxes/sent/99999999999999999999999").status_code == 404
    assert b.get("/faxes/sent", after="1.5_99999999999999999999999").status_code == 400


def test_ledger_paths_cannot_leave_the_spool(
    admin: Admin, browser: Callable[[str], Browser]
) -> None:
    outside = admin.spool.root.parent / "secret.tif"
    fax_tiff(outside, pages=1)
    walking = add_received(admin.ledger, "../secret.tif", "100")
    absolute = add_received(admin.ledger, str(outside), "100")
    b = browser("admin")
    for fax in (walking, absolute):
        assert b.get(f"/faxes/received/{fax}/fax.tif").status_code == 404
    in_recvq = fax_tiff(admin.spool.recvq / "fax00000077.tif", pages=1)
    bare = add_received(admin.ledger, in_recvq.name, "100")  # a bare name means recvq/
    assert b.get(f"/faxes/received/{bare}/fax.tif").content == in_recvq.read_bytes()


def test_session_log_file_is_shown_but_not_one_outside_the_spool(
    admin: Admin, faxes: dict[str, int], browser: Callable[[str], Browser]
) -> None:
    job = faxes["alice_job"]
    inside = admin.spool.log / "c20260101-120000-line1-1"
    inside.write_text("phase B: DCS 14400 V.17\nphase E: success\n")
    outside = admin.spool.root.parent / "private.log"
    outside.write_text("not for the web\n")
    with admin.ledger.transaction() as conn:
        for path in (str(inside), str(outside)):
            conn.execute(
                "INSERT INTO calls (job_id, direction, line, state, session_log, started_at)"
                " VALUES (?, 'out', '1', 'ended', ?, ?)",
                (job, path, time.time()),
            )
    text = browser("admin").get(f"/faxes/sent/{job}").text
    assert "phase B: DCS 14400 V.17" in text
    assert "not for the web" not in text
