"""A PWG raster print job (what IPP Everywhere clients send) through the real printer to a fax job.

ippfaxd (gunicorn) receives `image/pwg-raster` made by Ghostscript; PWG raster has no text, so
the gateway holds it for its user (mode 1); sent from there, faxqueued's intake converts it with
the shipped `mimetype/image/pwg-raster` and queues a fax job with its two fax pages.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from ipp_documents import postscript
from ippfaxd_helpers import Printer, ipp_request, mode, operation_attributes

from faxgate import appliance
from faxgate.convert import FaxPageOptions, inspect_tiff
from faxgate.faxqueued import api
from faxgate.faxqueued import intake as queue_intake
from faxgate.ipp.codec import Message
from faxgate.ipp.constants import Operation, Status
from faxgate.settings import load_settings
from faxgate.spool.ledger import Ledger

pytestmark = pytest.mark.skipif(shutil.which("gs") is None, reason="Ghostscript not installed")


def _pwg_raster(folder: Path) -> bytes:
    ps = folder / "letter.ps"
    ps.write_bytes(postscript([["A raster letter, page one"], ["and page two"]]))
    pwg = folder / "letter.pwg"
    subprocess.run(
        ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pwgraster", "-r300",
         "-dcupsColorSpace=18", "-dcupsBitsPerColor=8", f"-sOutputFile={pwg}", str(ps)],
        check=True,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return pwg.read_bytes()


def _process_next(printer: Printer, gateway_mode: int) -> str:
    settings = load_settings(environ=mode(gateway_mode))
    with Ledger.open(printer.spool.ledger_path) as ledger:
        [submission] = queue_intake.claim(ledger, 10)
    return queue_intake.process(printer.spool, settings, submission)


def test_pwg_raster_print_job_is_held_then_faxed_as_two_pages(
    printer: Printer, tmp_path: Path
) -> None:
    _, response = ipp_request(
        printer.port,
        Operation.PRINT_JOB,
        operation_attributes(
            printer.uri, "anna", job_name="raster letter", document_format="image/pwg-raster"
        ),
        _pwg_raster(tmp_path),
        chunked=True,
    )
    assert isinstance(response, Message)
    assert response.code == Status.SUCCESSFUL_OK
    printer.spool.seed_mimetype(appliance.rootfs_dir() / "usr/lib/faxgate/mimetype")

    assert _process_next(printer, 1) == "held"
    with Ledger.open(printer.spool.ledger_path) as ledger:
        [held] = ledger.query("SELECT id, mime_type FROM pending_print_jobs")
        assert held["mime_type"] == "image/pwg-raster"
        api.send_print_job(printer.spool, ledger, held["id"], ["0991234"], "anna")

    assert _process_next(printer, 1) == "done"
    with Ledger.open(printer.spool.ledger_path) as ledger:
        [job] = ledger.query(
            "SELECT jobs.number, jobs.pages_total, documents.path FROM jobs"
            " JOIN documents ON documents.id = jobs.document_id"
        )
    assert (job["number"], job["pages_total"]) == ("0991234", 2)
    document = Path(job["path"])
    if not document.is_absolute():
        document = printer.spool.docq / document
    pages = inspect_tiff(document)
    assert len(pages) == 2
    assert all(page.is_fax_page(FaxPageOptions()) for page in pages)


@pytest.mark.parametrize(("gateway_mode", "state"), [(2, "rejected"), (3, "held")])
def test_a_raster_job_has_no_control_fields(
    gateway_mode: int, state: str, printer: Printer, tmp_path: Path
) -> None:
    """Raster pages carry no text: mode 2 (fields required) refuses, mode 3 hands it off."""
    _, response = ipp_request(
        printer.port,
        Operation.PRINT_JOB,
        operation_attributes(printer.uri, "anna", document_format="image/pwg-raster"),
        _pwg_raster(tmp_path),
    )
    assert isinstance(response, Message)
    assert response.code == Status.SUCCESSFUL_OK
    printer.spool.seed_mimetype(appliance.rootfs_dir() / "usr/lib/faxgate/mimetype")
    assert _process_next(printer, gateway_mode) == state
