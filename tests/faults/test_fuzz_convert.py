"""Fuzzing document intake: sniffing, the in-process TIFF reader, and the real converters.

Whatever a sender attaches or prints, conversion ends in a fax TIFF or a `ConversionError`
with a message: never another exception, never a hang (the limits stop endless PostScript and
bombs). The TIFF reader runs inside faxqueued itself, so it gets the most cases; the
converters run as limited subprocesses, so they get fewer (each costs a process start).
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

import pytest
from faults_fuzzing import fuzz_settings, replay_params
from hypothesis import given
from hypothesis import strategies as st

from faxgate.appliance import rootfs_dir
from faxgate.convert import to_fax_tiff
from faxgate.convert.errors import UnsupportedTypeError
from faxgate.convert.extract import extract_page_texts
from faxgate.convert.options import FaxPageOptions
from faxgate.convert.runner import convert_document, find_converter
from faxgate.convert.sniff import sniff_mime_type
from faxgate.convert.tiffio import decode_page, inspect_tiff, read_fax_pages
from faxgate.errors import ConversionError

DOCUMENTS = Path(__file__).resolve().parents[1] / "fixtures" / "documents"
SMALL_DOCUMENTS = [
    DOCUMENTS / name
    for name in ("a4-3pages.pdf", "truncated.pdf", "handwritten.ps", "onebit-wrongres.tif",
                 "utf8.txt", "mail-body.html", "small.gif", "transparent.png", "pjl-wrapped.ps")
]  # fmt: skip
MIMETYPES = rootfs_dir() / "usr/lib/faxgate/mimetype"
LIMITS = FaxPageOptions(time_limit_s=20, memory_limit_mb=512, page_limit=20)
_WORK = tempfile.TemporaryDirectory(prefix="faxgate-fuzz-convert-")
WORK = Path(_WORK.name)
FAX_TIFF = WORK / "fax.tif"
to_fax_tiff(DOCUMENTS / "a4-3pages.pdf", FAX_TIFF)


def mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    buffer = bytearray(data)
    for position, value in edits:
        buffer[position % len(buffer)] = value
    return bytes(buffer[:cut] if cut else buffer)


edits = st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), min_size=1, max_size=12)


@fuzz_settings()
@given(st.binary(max_size=2048))
def test_sniffing_names_a_type_for_any_bytes(data: bytes) -> None:
    kind = sniff_mime_type(data)
    main, slash, sub = kind.partition("/")
    assert slash
    assert main
    assert sub


@fuzz_settings()
@given(edits, st.one_of(st.none(), st.integers(0, 4000)))
def test_tiff_reader_raises_only_conversion_error(
    changes: list[tuple[int, int]], cut: int | None
) -> None:
    data = mutate(FAX_TIFF.read_bytes(), changes, cut)
    try:
        inspect_tiff(data)
        for page in read_fax_pages(data)[:1]:
            decode_page(page)
    except ConversionError:
        pass


@fuzz_settings()
@given(st.text(max_size=60))
def test_converter_lookup_never_leaves_the_mimetype_folder(mime_type: str) -> None:
    try:
        converter = find_converter(MIMETYPES, mime_type)
    except ConversionError:
        return
    assert converter.resolve().is_relative_to(MIMETYPES.resolve())


@pytest.mark.parametrize(
    "mime_type",
    [
        "../../bin/sh",
        "application/../../../bin/sh",
        "../application/pdf",
        "application/pdf/../../x",
        "text/..",
        "/bin/sh",
        "application/.pdf",
        "application\\..\\..\\sh",
        "application/pdf\x00../sh",
    ],
)
def test_hostile_mime_types_find_no_program(mime_type: str) -> None:
    with pytest.raises(UnsupportedTypeError):
        find_converter(MIMETYPES, mime_type)


@fuzz_settings(share=0.1)
@given(
    st.sampled_from(SMALL_DOCUMENTS),
    edits,
    st.one_of(st.none(), st.integers(1, 3000)),
    st.sampled_from(
        [
            "sniffed",
            "application/pdf",
            "application/postscript",
            "image/tiff",
            "text/plain; charset=utf-7",
            "text/html",
            "image/png",
        ]
    ),
)
def test_garbage_documents_end_as_fax_pages_or_a_conversion_error(
    source: Path, changes: list[tuple[int, int]], cut: int | None, declared: str
) -> None:
    job = Path(tempfile.mkdtemp(dir=WORK))
    src = job / ("input" + source.suffix)
    src.write_bytes(mutate(source.read_bytes(), changes, cut))
    mime_type = sniff_mime_type(src) if declared == "sniffed" else declared
    try:
        converted = convert_document(MIMETYPES, src, mime_type, job / "out.tif", LIMITS)
    except ConversionError as exc:
        assert str(exc).strip()  # noqa: PT017
        assert not (job / "out.tif").exists()
        return
    assert 1 <= converted.pages <= LIMITS.page_limit
    assert all(page.is_fax_page(LIMITS) for page in inspect_tiff(converted.path))


@fuzz_settings(share=0.05)
@given(st.sampled_from(SMALL_DOCUMENTS[:3]), edits)
def test_text_extraction_of_garbage_gives_texts_or_a_conversion_error(
    source: Path, changes: list[tuple[int, int]]
) -> None:
    job = Path(tempfile.mkdtemp(dir=WORK))
    src = job / "input"
    src.write_bytes(mutate(source.read_bytes(), changes, None))
    try:
        texts = extract_page_texts(src, sniff_mime_type(src), LIMITS)
    except ConversionError:
        return
    assert all(isinstance(text, str) for text in texts)


@pytest.mark.parametrize("path", replay_params("convert"))
def test_kept_fault_document_ends_cleanly(tmp_path: Path, path: Path) -> None:
    with contextlib.suppress(ConversionError):
        convert_document(MIMETYPES, path, sniff_mime_type(path), tmp_path / "out.tif", LIMITS)
