"""Documents that must fail, and fail with a message a sender understands, within the limits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faxgate.convert import (
    ConversionLimitError,
    FaxPageOptions,
    UnsupportedTypeError,
    convert_document,
    extract_page_texts,
)
from faxgate.errors import ConversionError

SHORT = FaxPageOptions(time_limit_s=10, memory_limit_mb=768)


def convert(
    mimetype_dir: Path, source: Path, mime: str, tmp_path: Path, options: FaxPageOptions = SHORT
) -> None:
    convert_document(mimetype_dir, source, mime, tmp_path / "out.tif", options)


def test_no_converter_is_reported_as_skipped(
    mimetype_dir: Path, documents: Path, tmp_path: Path
) -> None:
    with pytest.raises(UnsupportedTypeError, match="skipped: no converter for image/gif"):
        convert(mimetype_dir, documents / "small.gif", "image/gif", tmp_path)
    assert not (tmp_path / "out.tif").exists()


def test_password_protected_pdf_is_refused(
    mimetype_dir: Path, documents: Path, tmp_path: Path
) -> None:
    with pytest.raises(ConversionError, match="protected by a password"):
        convert(mimetype_dir, documents / "encrypted-user.pdf", "application/pdf", tmp_path)


def test_truncated_pdf_is_repaired_with_a_warning(
    mimetype_dir: Path, documents: Path, tmp_path: Path
) -> None:
    result = convert_document(
        mimetype_dir, documents / "truncated.pdf", "application/pdf", tmp_path / "t.tif"
    )
    assert result.pages >= 1
    assert any("repaired" in warning for warning in result.warnings)


def test_garbage_pdf_is_refused(mimetype_dir: Path, documents: Path, tmp_path: Path) -> None:
    with pytest.raises(ConversionError, match="damaged"):
        convert(mimetype_dir, documents / "garbage.pdf", "application/pdf", tmp_path)


def test_page_bomb_hits_the_page_limit(mimetype_dir: Path, documents: Path, tmp_path: Path) -> None:
    with pytest.raises(ConversionLimitError, match="1000 pages, more than the limit of 200"):
        convert(
            mimetype_dir,
            documents / "bomb-pages.pdf",
            "application/pdf",
            tmp_path,
            FaxPageOptions(),
        )


def test_form_bomb_ends_within_the_limits(
    mimetype_dir: Path, documents: Path, tmp_path: Path
) -> None:
    # 10**12 nested drawing operations: PDFium either runs out of the time or of the memory.
    with pytest.raises(ConversionLimitError, match="limit"):
        convert(mimetype_dir, documents / "bomb-forms.pdf", "application/pdf", tmp_path)


def test_png_bomb_is_refused(mimetype_dir: Path, documents: Path, tmp_path: Path) -> None:
    with pytest.raises(ConversionLimitError, match="too large"):
        convert(mimetype_dir, documents / "bomb.png", "image/png", tmp_path)


def test_endless_postscript_loop_ends_at_the_time_limit(
    mimetype_dir: Path, documents: Path, tmp_path: Path
) -> None:
    options = FaxPageOptions(time_limit_s=2)
    with pytest.raises(ConversionLimitError, match="longer than the limit of 2 s"):
        convert(
            mimetype_dir, documents / "endless-loop.ps", "application/postscript", tmp_path, options
        )


def test_postscript_cannot_read_etc_passwd(
    mimetype_dir: Path, documents: Path, tmp_path: Path
) -> None:
    with pytest.raises(ConversionError, match="not allowed to open"):
        convert(
            mimetype_dir, documents / "hostile-unguarded.ps", "application/postscript", tmp_path
        )
    # The guarded variant prints what it could read: only "DENIED" reaches the page.
    texts = extract_page_texts(documents / "hostile-passwd.ps", "application/postscript")
    assert "DENIED" in texts[0]
    assert "root:" not in "".join(texts)


def test_failing_converter_message_reaches_the_caller(mimetype_dir: Path, tmp_path: Path) -> None:
    script = mimetype_dir / "application" / "x-broken"
    script.write_text(
        "#!/bin/sh\necho 'some noise' >&2\necho 'the spreadsheet has no printable area' >&2\nexit 1\n"
    )
    script.chmod(0o755)
    source = tmp_path / "in.bin"
    source.write_bytes(b"x")
    with pytest.raises(ConversionError) as raised:
        convert(mimetype_dir, source, "application/x-broken", tmp_path)
    assert str(raised.value) == "the spreadsheet has no printable area"


def test_converter_writing_nothing_is_a_failure(mimetype_dir: Path, tmp_path: Path) -> None:
    script = mimetype_dir / "application" / "x-silent"
    script.write_text("#!/bin/sh\nexit 0\n")
    script.chmod(0o755)
    source = tmp_path / "in.bin"
    source.write_bytes(b"x")
    with pytest.raises(ConversionError, match="wrote no output"):
        convert(mimetype_dir, source, "application/x-silent", tmp_path)


def test_converter_sees_only_its_private_directory(mimetype_dir: Path, tmp_path: Path) -> None:
    script = mimetype_dir / "application" / "x-env"
    record = tmp_path / "record.json"
    script.write_text(
        "#!/bin/sh\n"
        f'printf \'{{"pwd": "%s", "input": "%s", "tmp": "%s", "python": "%s"}}\' '
        f'"$PWD" "$1" "$TMPDIR" "$FAXGATE_PYTHON" > {record}\n'
        "exit 1\n"
    )
    script.chmod(0o755)
    source = tmp_path / "secret-name.bin"
    source.write_bytes(b"x")
    with pytest.raises(ConversionError):
        convert(mimetype_dir, source, "application/x-env", tmp_path)
    seen = json.loads(record.read_text())
    workdir = Path(seen["pwd"])
    assert Path(seen["input"]).parent == workdir  # a private copy, not the caller's file
    assert "secret-name" not in seen["input"]
    assert seen["tmp"] == str(workdir)
    assert Path(seen["python"]).exists()
    assert not workdir.exists()  # cleaned up after the run
