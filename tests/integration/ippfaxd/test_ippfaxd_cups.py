"""A real CUPS client: a private cupsd on a Unix socket, queues to ippfaxd, `lp` of real files.

`lpadmin -m everywhere` builds its PPD from our Get-Printer-Attributes answer (it needs
application/pdf and media-supported, else it silently makes a raw queue); the raw queue sends
files untouched as application/octet-stream. The spooled jobs then go through the print
interpreter as faxqueued would run it.
"""

from __future__ import annotations

import grp
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ipp_documents import postscript, ps_to_pdf
from ippfaxd_helpers import (
    Printer,
    interpret_submission,
    mode,
    start_printer,
    stop_printer,
    submissions,
    wait_for_submissions,
)

from faxgate.spool.requests import FaxRequest, PendingPrintJob, Rejection

pytestmark = [
    pytest.mark.skipif(shutil.which("cupsd") is None, reason="needs the cups package"),
    pytest.mark.skipif(os.geteuid() != 0, reason="cupsd runs its filters as lp: needs root"),
]

SERIAL_LETTER = [
    ["@@+FAX:0991 111@@ @@+TAG:Invoice 1@@ @@+PRIO:100@@", "Dear customer one,"],
    ["page two of letter one"],
    ["@@+FAX:0992222@@ @@+NOTIFY:erp@example.com@@", "Dear customer two,"],
    ["@@+FAX:0993333@@ @@+PRIO:250@@ @@+TAG:Invoice 3@@", "Dear customer three,"],
    ["page two of letter three"],
    ["page three of letter three"],
]

CUPS_FILES_CONF = """\
ServerRoot {root}
StateDir {root}/state
CacheDir {root}/cache
RequestRoot {root}/spool
TempDir {root}/tmp
ErrorLog {root}/log/error_log
AccessLog {root}/log/access_log
PageLog {root}/log/page_log
ServerBin /usr/lib/cups
DataDir /usr/share/cups
SystemGroup root
Printcap {root}/printcap
"""
CUPSD_CONF = """\
LogLevel info
Listen {root}/cups.sock
Browsing Off
DefaultAuthType None
WebInterface No
<Location />
  Order allow,deny
  Allow all
</Location>
<Policy default>
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
"""


class Cups:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = {**os.environ, "CUPS_SERVER": str(root / "cups.sock")}

    def run(self, *argv: str) -> str:
        result = subprocess.run(argv, env=self.env, capture_output=True, text=True, timeout=60,
                                check=False)  # fmt: skip
        assert result.returncode == 0, f"{argv}: {result.stderr}"
        return result.stdout

    def log(self) -> str:
        return (self.root / "log" / "error_log").read_text(errors="replace")


@pytest.fixture(scope="module")
def cups_printer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Printer]:
    started = start_printer(tmp_path_factory.mktemp("ippfaxd-cups"))
    yield started
    stop_printer(started.process)


@pytest.fixture(scope="module")
def cups(cups_printer: Printer) -> Iterator[Cups]:
    # Under /tmp, not pytest's private tmp: cupsd's filters run as lp and must reach it.
    root = Path(tempfile.mkdtemp(prefix="faxgate-cups-", dir="/tmp"))
    root.chmod(0o755)
    for name in ("state", "cache", "log"):
        (root / name).mkdir(mode=0o755)
    (root / "tmp").mkdir()
    (root / "tmp").chmod(0o1777)
    (root / "spool").mkdir()
    os.chown(root / "spool", 0, grp.getgrnam("lp").gr_gid)
    (root / "spool").chmod(0o710)
    (root / "cups-files.conf").write_text(CUPS_FILES_CONF.format(root=root))
    (root / "cupsd.conf").write_text(CUPSD_CONF.format(root=root))
    process = subprocess.Popen(
        ["cupsd", "-f", "-c", str(root / "cupsd.conf"), "-s", str(root / "cups-files.conf")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    client = Cups(root)
    try:
        deadline = time.monotonic() + 20
        while not (root / "cups.sock").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        uri = cups_printer.uri
        client.run("lpadmin", "-p", "fax", "-E", "-v", uri, "-m", "everywhere")
        client.run("lpadmin", "-p", "rawfax", "-E", "-v", uri)  # no model: a raw queue
        yield client
    finally:
        process.send_signal(signal.SIGTERM)  # only the cupsd this fixture started
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(root, ignore_errors=True)


def lp(cups: Cups, printer: Printer, queue: str, path: Path, title: str) -> sqlite3.Row:
    before = len(submissions(printer.spool))
    cups.run("lp", "-d", queue, "-U", "anna", "-t", title, str(path))
    rows = wait_for_submissions(printer.spool, before + 1)
    return rows[before]


@pytest.fixture(scope="module")
def letters(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("letters")
    files: dict[str, Path] = {}
    for name, pages in (("serial", SERIAL_LETTER), ("plain", [["a letter without fields"]])):
        ps = folder / f"{name}.ps"
        ps.write_bytes(postscript(pages))
        ps_to_pdf(ps, folder / f"{name}.pdf")
        files[f"{name}.ps"], files[f"{name}.pdf"] = ps, folder / f"{name}.pdf"
    for path in files.values():
        path.chmod(0o644)
    folder.chmod(0o755)
    return files


def check_serial_letter(result: object) -> None:
    assert isinstance(result, list)
    assert all(isinstance(request, FaxRequest) for request in result)
    assert [(r.parts[0].first_page, r.parts[0].last_page) for r in result] == [
        (1, 2), (3, 3), (4, 6)
    ]  # fmt: skip
    assert [[d.number for d in r.destinations] for r in result] == [
        ["0991111"], ["0992222"], ["0993333"]
    ]  # fmt: skip
    assert [r.priority for r in result] == [100, 200, 250]
    assert [r.tag for r in result] == ["Invoice 1", "letters", "Invoice 3"]
    assert [r.notify for r in result] == ["faxmaster@localhost", "erp@example.com",
                                          "faxmaster@localhost"]  # fmt: skip
    assert {r.owner for r in result} == {"anna"}


def test_everywhere_queue_was_built_from_our_attributes(cups: Cups) -> None:
    ppd = cups.root / "ppd" / "fax.ppd"
    deadline = time.monotonic() + 30
    while not ppd.exists() and time.monotonic() < deadline:
        time.sleep(0.2)  # cupsd writes the generated PPD after lpadmin returns
    text = ppd.read_text()
    assert "*DefaultPageSize: A4" in text  # our media-default, with non-zero margins
    assert "*PageSize Letter:" in text
    assert "application/pdf" in text


@pytest.mark.parametrize("document", ["serial.pdf", "serial.ps"])
def test_serial_letter_through_the_everywhere_queue(
    cups: Cups, cups_printer: Printer, letters: dict[str, Path], document: str
) -> None:
    row = lp(cups, cups_printer, "fax", letters[document], "letters")
    assert row["owner"] == "anna"
    check_serial_letter(interpret_submission(cups_printer.spool, row["id"], mode(2)))


def test_postscript_through_the_raw_queue(
    cups: Cups, cups_printer: Printer, letters: dict[str, Path]
) -> None:
    row = lp(cups, cups_printer, "rawfax", letters["serial.ps"], "letters")
    params = json.loads(row["params"])
    # the raw queue passes the file untouched; cupsd names its type, we check it by content
    assert params["declared_format"] in ("application/postscript", "application/octet-stream")
    assert params["mime_type"] == "application/postscript"
    assert (cups_printer.spool.incoming / row["path"]).read_bytes() == (
        letters["serial.ps"].read_bytes()
    )
    check_serial_letter(interpret_submission(cups_printer.spool, row["id"], mode(2)))


def test_mode_2_without_fields_is_rejected(
    cups: Cups, cups_printer: Printer, letters: dict[str, Path]
) -> None:
    row = lp(cups, cups_printer, "fax", letters["plain.pdf"], "no fields")
    result = interpret_submission(cups_printer.spool, row["id"], mode(2))
    assert isinstance(result, Rejection)
    assert "'no fields'" in result.reason
    assert "no fax number field" in result.reason
    assert result.notify == "faxmaster@localhost"


def test_mode_1_becomes_a_pending_print_job(
    cups: Cups, cups_printer: Printer, letters: dict[str, Path]
) -> None:
    row = lp(cups, cups_printer, "fax", letters["serial.pdf"], "for later")
    result = interpret_submission(cups_printer.spool, row["id"], mode(1))
    assert isinstance(result, PendingPrintJob)
    assert result.owner == "anna"
    assert result.title == "for later"
    assert result.document.path.read_bytes().startswith(b"%PDF-")
