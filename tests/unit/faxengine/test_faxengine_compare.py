"""Page comparison, including the header band spandsp adds above each page."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from faxgate.faxengine.compare import page_equal, pages_equal, read_pages


def _page(seed: int, rows: int = 120, width: int = 1728) -> np.ndarray:
    return np.random.default_rng(seed).random((rows, width)) < 0.1


def _with_header(page: np.ndarray, rows: int) -> np.ndarray:
    header = np.zeros((rows, page.shape[1]), dtype=bool)
    header[4:10, 10:300] = True  # some header text
    return np.vstack([header, page])


def test_identical_pages_are_equal() -> None:
    assert page_equal(_page(1), _page(1).copy())


def test_one_pixel_makes_a_difference() -> None:
    received = _page(1).copy()
    received[60, 900] = not received[60, 900]
    assert not page_equal(_page(1), received)


def test_header_band_above_the_page_is_skipped() -> None:
    assert page_equal(_page(2), _with_header(_page(2), 32))
    assert not page_equal(_page(2), _with_header(_page(3), 32))


def test_a_longer_page_is_not_a_header() -> None:
    assert not page_equal(_page(2), _with_header(_page(2), 200))
    assert not page_equal(_with_header(_page(2), 32), _page(2))  # received shorter


def test_overlaid_header_rows_are_ignored_when_named() -> None:
    sent, received = _page(4), _page(4).copy()
    received[:16] = True
    assert not page_equal(sent, received)
    assert page_equal(sent, received, header_rows=16)


def test_different_widths_are_unequal() -> None:
    assert not page_equal(_page(5, width=1728), _page(5, width=1700))


def _save(path: Path, pages: list[np.ndarray], compression: str = "group4") -> Path:
    images = [Image.fromarray(~page).convert("1") for page in pages]
    images[0].save(path, save_all=True, append_images=images[1:], compression=compression)
    return path


def test_tiff_pages_round_trip_black_is_true(tmp_path: Path) -> None:
    pages = [_page(6), _page(7)]
    read = read_pages(_save(tmp_path / "a.tif", pages))
    assert len(read) == 2
    assert all(np.array_equal(a, b) for a, b in zip(read, pages, strict=True))


def test_files_compare_page_by_page(tmp_path: Path) -> None:
    sent = _save(tmp_path / "sent.tif", [_page(8), _page(9)])
    same = _save(tmp_path / "same.tif", [_with_header(_page(8), 32), _page(9)], "group3")
    other = _save(tmp_path / "other.tif", [_page(8), _page(10)])
    short = _save(tmp_path / "short.tif", [_page(8)])
    assert pages_equal(sent, same) == [True, True]
    assert pages_equal(sent, other) == [True, False]
    assert pages_equal(sent, short) == [True, False]
