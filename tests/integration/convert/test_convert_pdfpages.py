"""PDF rendering in one or two processes: same pages either way, failures of the child reported."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import pytest

from faxgate.convert import ConversionLimitError, FaxPageOptions, g4, pdfpages
from faxgate.convert.tiffio import fax_tiff_bytes
from faxgate.errors import ConversionError


def render(source: Path, workdir: Path, workers: int, monkeypatch: pytest.MonkeyPatch) -> bytes:
    monkeypatch.setattr(pdfpages, "_worker_count", lambda pages: workers)
    workdir.mkdir()
    return fax_tiff_bytes(pdfpages.pdf_fax_pages(source, FaxPageOptions(), workdir))


def test_two_processes_give_the_same_pages(
    documents: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("text-20pages.pdf", "a4-3pages.pdf"):
        one = render(documents / name, tmp_path / f"{name}-1", 1, monkeypatch)
        two = render(documents / name, tmp_path / f"{name}-2", 2, monkeypatch)
        assert one == two


@pytest.mark.parametrize(
    ("raised", "expected"),
    [
        (ConversionLimitError("the document makes more than 9 fax pages"), ConversionLimitError),
        (ConversionError("page 12 is broken"), ConversionError),
    ],
)
def test_failure_in_the_second_process_is_reported(
    raised: ConversionError,
    expected: type[ConversionError],
    documents: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = pdfpages._packed_range

    def failing_second_half(
        path: Path, first: int, stop: int, options: FaxPageOptions
    ) -> Generator[pdfpages.PackedPage]:
        if first > 0:  # only the forked child renders from the middle
            raise raised
        return original(path, first, stop, options)

    monkeypatch.setattr(pdfpages, "_packed_range", failing_second_half)
    with pytest.raises(expected, match=str(raised)) as caught:
        render(documents / "text-20pages.pdf", tmp_path / "w", 2, monkeypatch)
    assert type(caught.value) is expected


def test_two_idle_cores_decide(monkeypatch: pytest.MonkeyPatch) -> None:
    # One process already uses two cores (render and coding threads): a second one needs two
    # more that are idle.
    monkeypatch.setattr(pdfpages.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3})
    monkeypatch.setattr(pdfpages.os, "getloadavg", lambda: (2.4, 2.4, 2.4))
    assert pdfpages._worker_count(20) == 2
    assert pdfpages._worker_count(3) == 1
    monkeypatch.setattr(pdfpages.os, "getloadavg", lambda: (3.0, 3.0, 3.0))
    assert pdfpages._worker_count(20) == 1
    monkeypatch.setattr(pdfpages.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(pdfpages.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert pdfpages._worker_count(20) == 1


def test_coding_thread_gives_the_same_pages(
    documents: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(g4, "_coding_thread_wanted", lambda: False)
    alone = render(documents / "text-20pages.pdf", tmp_path / "alone", 1, monkeypatch)
    monkeypatch.setattr(g4, "_coding_thread_wanted", lambda: True)
    overlapped = render(documents / "text-20pages.pdf", tmp_path / "overlapped", 1, monkeypatch)
    assert alone == overlapped


def test_page_limit_reached_while_the_thread_codes(
    documents: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(g4, "_coding_thread_wanted", lambda: True)
    monkeypatch.setattr(pdfpages, "_worker_count", lambda pages: 1)
    # The count check before rendering passes (20 pages) only if the limit is 20 or more, so
    # the limit is hit by the pieces counted while rendering: fake a split page.
    original = pdfpages._page_pieces

    def doubled(page: object, options: FaxPageOptions, bitmaps: object) -> list[g4.PackedPage]:
        pieces = original(page, options, bitmaps)
        return pieces + pieces

    monkeypatch.setattr(pdfpages, "_page_pieces", doubled)
    with pytest.raises(ConversionLimitError, match="more than 25 fax pages"):
        pdfpages.pdf_fax_pages(
            documents / "text-20pages.pdf", FaxPageOptions(page_limit=25), tmp_path
        )


def test_coding_failure_in_the_thread_is_reported(
    documents: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(g4, "_coding_thread_wanted", lambda: True)
    monkeypatch.setattr(pdfpages, "_worker_count", lambda pages: 1)
    original = g4._write_page
    coded: list[int] = []

    def failing_third(
        library: object, tiff: int, page: g4.PackedPage, options: FaxPageOptions
    ) -> None:
        if len(coded) == 2:
            raise ConversionError("cannot write the fax pages (libtiff failed to code a page)")
        coded.append(page.height)
        original(library, tiff, page, options)

    monkeypatch.setattr(g4, "_write_page", failing_third)
    with pytest.raises(ConversionError, match="failed to code a page"):
        pdfpages.pdf_fax_pages(documents / "text-20pages.pdf", FaxPageOptions(), tmp_path)
    assert len(coded) == 2
