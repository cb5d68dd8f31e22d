"""PDF rendering in one or two processes: same pages either way, failures of the child reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from faxgate.convert import ConversionLimitError, FaxPageOptions, pdfpages
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
    ) -> list[pdfpages.PackedPage]:
        if first > 0:  # only the forked child renders from the middle
            raise raised
        return original(path, first, stop, options)

    monkeypatch.setattr(pdfpages, "_packed_range", failing_second_half)
    with pytest.raises(expected, match=str(raised)) as caught:
        render(documents / "text-20pages.pdf", tmp_path / "w", 2, monkeypatch)
    assert type(caught.value) is expected


def test_idle_core_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdfpages.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(pdfpages.os, "getloadavg", lambda: (2.4, 2.4, 2.4))
    assert pdfpages._worker_count(20) == 2
    assert pdfpages._worker_count(3) == 1
    monkeypatch.setattr(pdfpages.os, "getloadavg", lambda: (3.5, 3.5, 3.5))
    assert pdfpages._worker_count(20) == 1
    monkeypatch.setattr(pdfpages.os, "sched_getaffinity", lambda pid: {0})
    monkeypatch.setattr(pdfpages.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert pdfpages._worker_count(20) == 1
