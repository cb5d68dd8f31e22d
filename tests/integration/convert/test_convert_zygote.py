"""The warm converter process: same results as starting the converter, limits kept, robust."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from faxgate.convert import ConversionLimitError, FaxPageOptions, convert_document, runner
from faxgate.convert.runner import is_shipped_converter, shipped_converter_script
from faxgate.convert.zygote import shared_zygote

SHIPPED_CONVERTERS = (
    Path(__file__).resolve().parents[3] / "rootfs" / "usr" / "lib" / "faxgate" / "mimetype"
)
SHIPPED = [
    "application/pdf", "application/postscript", "image/tiff", "image/png", "image/jpeg",
    "image/pwg-raster", "text/plain", "text/html",
]  # fmt: skip


def test_rootfs_converters_are_the_shipped_scripts() -> None:
    for mime_type in SHIPPED:
        script = SHIPPED_CONVERTERS / mime_type
        assert is_shipped_converter(script, mime_type), mime_type
        assert os.access(script, os.X_OK)
    assert sorted(
        str(p.relative_to(SHIPPED_CONVERTERS)) for p in SHIPPED_CONVERTERS.glob("*/*")
    ) == sorted(SHIPPED)
    assert not is_shipped_converter(SHIPPED_CONVERTERS / "text" / "plain", "text/html")


@pytest.mark.parametrize("name", ["a4-3pages.pdf", "utf8.txt", "photo.jpg", "handwritten.ps"])
def test_zygote_and_plain_start_give_the_same_fax(
    name: str, mimetype_dir: Path, documents: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from faxgate.convert import sniff_mime_type

    source = documents / name
    mime_type = sniff_mime_type(source)
    warm = convert_document(mimetype_dir, source, mime_type, tmp_path / "warm.tif")
    monkeypatch.setattr(runner, "USE_ZYGOTE", False)
    cold = convert_document(mimetype_dir, source, mime_type, tmp_path / "cold.tif")
    assert warm.pages == cold.pages
    assert warm.path.read_bytes() == cold.path.read_bytes()


def test_edited_shipped_converter_is_run_as_written(
    mimetype_dir: Path, documents: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "edited.marker"
    script = mimetype_dir / "text" / "plain"
    script.write_text(
        shipped_converter_script("text/plain").replace("exec ", f"touch {marker}\nexec ", 1)
    )
    result = convert_document(
        mimetype_dir, documents / "latin1.txt", "text/plain", tmp_path / "out.tif"
    )
    assert result.pages == 1
    assert marker.exists()


def _processes_mentioning(text: str) -> list[bytes]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue  # ended meanwhile
        if text.encode() in command:
            found.append(command)
    return found


def test_time_limit_holds_in_the_zygote(
    mimetype_dir: Path, documents: Path, tmp_path: Path
) -> None:
    jobs = tmp_path / "jobs"
    jobs.mkdir()
    with pytest.raises(ConversionLimitError, match="longer than the limit of 1 s"):
        convert_document(mimetype_dir, documents / "endless-loop.ps", "application/postscript",
                         tmp_path / "out.tif", FaxPageOptions(time_limit_s=1), temp_root=jobs)  # fmt: skip
    # The whole process group was killed: Ghostscript too (given a moment to finish dying).
    deadline = time.monotonic() + 3
    while _processes_mentioning(str(jobs)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _processes_mentioning(str(jobs)) == []


def test_zygote_is_restarted_after_it_died(
    mimetype_dir: Path, documents: Path, tmp_path: Path
) -> None:
    convert_document(mimetype_dir, documents / "latin1.txt", "text/plain", tmp_path / "a.tif")
    process = shared_zygote()._process
    assert process is not None
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    result = convert_document(
        mimetype_dir, documents / "latin1.txt", "text/plain", tmp_path / "b.tif"
    )
    assert result.pages == 1
    assert shared_zygote()._process is not process
