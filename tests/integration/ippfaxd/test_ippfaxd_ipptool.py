"""ipptool's conformance files against the real gunicorn service (ipp-1.1, ipp-2.0, everywhere)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from ipp_documents import prepare_ipptool_dir
from ippfaxd_helpers import (
    Printer,
)

from faxgate.spool.ledger import Ledger

pytestmark = pytest.mark.skipif(shutil.which("ipptool") is None, reason="needs cups-ipp-utils")

TEST_FILES = ("ipp-1.1.test", "ipp-2.0.test", "ipp-everywhere.test")


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare_ipptool_dir(tmp_path_factory.mktemp("ipptool"), TEST_FILES)


def run_ipptool(
    printer: Printer, documents: Path, test_file: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ipptool", "-V", "2.0", "-t", "-I", "-T", "30", "-f", "document-a4.pdf", printer.uri,
         test_file],
        cwd=documents, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("test_file", TEST_FILES)
def test_conformance_file_passes_with_no_failures(
    module_printer: Printer, documents: Path, test_file: str
) -> None:
    result = run_ipptool(module_printer, documents, test_file)
    failures = [line for line in result.stdout.splitlines() if "[FAIL]" in line]
    assert failures == [], result.stdout[-4000:]
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr
    assert "[PASS]" in result.stdout


def test_conformance_jobs_were_spooled_as_print_submissions(
    module_printer: Printer, documents: Path
) -> None:
    run_ipptool(module_printer, documents, "ipp-1.1.test")
    with Ledger.open(module_printer.spool.ledger_path) as ledger:
        rows = ledger.query(
            "SELECT s.kind, s.path, s.params, j.state FROM ipp_jobs j"
            " JOIN submissions s ON s.id = j.submission_id"
        )
    assert len(rows) >= 10
    assert {row["kind"] for row in rows} == {"print"}
    assert {row["state"] for row in rows} == {9}  # completed: handed to the fax queue
    for row in rows:
        assert (module_printer.spool.incoming / row["path"]).stat().st_size > 0
    formats = {json.loads(row["params"])["mime_type"] for row in rows}
    assert {"application/pdf", "application/postscript", "image/jpeg"} <= formats
