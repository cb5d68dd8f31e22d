"""PWG raster from Ghostscript's `pwgraster` device becomes the same fax pages as its PDF.

A two-page text document is made with Ghostscript as PDF and as PWG raster (300 dpi, the
colour spaces an IPP Everywhere client may send a fax printer); the raster goes through the
shipped `mimetype/image/pwg-raster` converter and must give the pages the PDF converter gives
from the PDF, and spandsp must send them unchanged.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image, ImageFilter

from faxgate.convert import (
    FaxPageOptions,
    Resolution,
    convert_document,
    inspect_tiff,
    sniff_mime_type,
)
from faxgate.convert.tiffio import decode_page, read_fax_pages
from faxgate.errors import ConversionError
from faxgate.faxengine.sendable import check_sendable

pytestmark = pytest.mark.skipif(shutil.which("gs") is None, reason="Ghostscript not installed")

# cupsColorSpace, cupsBitsPerColor of Ghostscript's pwgraster device
RASTER_KINDS = {"black-1": (3, 1), "sgray-8": (18, 8), "srgb-8": (19, 8), "sgray-1": (18, 1)}

PAGES = [
    [
        "Invoice 2026-0815",
        "Dear customer,",
        "please find the amounts below.",
        "Total: 1.234,56 EUR",
    ],
    ["Page two: terms", "Payment within 30 days.", "Thank you for your order."],
]


def _postscript(path: Path) -> Path:
    out = ["%!PS-Adobe-3.0", f"%%Pages: {len(PAGES)}", "%%EndComments"]
    for number, lines in enumerate(PAGES, 1):
        out += [f"%%Page: {number} {number}", "<< /PageSize [595 842] >> setpagedevice"]
        y = 760
        for index, line in enumerate(lines):
            size = 20 if index == 0 else 11
            out.append(f"/Helvetica findfont {size} scalefont setfont 72 {y} moveto ({line}) show")
            y -= 2 * size
        out.append("0 setlinewidth 72 400 moveto 523 400 lineto stroke showpage")
    path.write_text("\n".join(out) + "\n%%EOF\n")
    return path


def _gs(args: list[str]) -> None:
    subprocess.run(
        ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", *args],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,  # the pwgraster device reports each page on stderr
    )


def _pwg(ps: Path, target: Path, kind: str, dpi: int) -> Path:
    space, bits = RASTER_KINDS[kind]
    _gs(
        [
            "-sDEVICE=pwgraster",
            f"-r{dpi}",
            f"-dcupsColorSpace={space}",
            f"-dcupsBitsPerColor={bits}",
            f"-sOutputFile={target}",
            str(ps),
        ]
    )
    return target


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The document as PostScript and PDF (Ghostscript's pdfwrite)."""
    folder = tmp_path_factory.mktemp("pwg-sources")
    ps = _postscript(folder / "letter.ps")
    pdf = folder / "letter.pdf"
    _gs(["-sDEVICE=pdfwrite", f"-sOutputFile={pdf}", str(ps)])
    return {"ps": ps, "pdf": pdf}


def _ink(tiff: Path) -> list[NDArray[np.bool_]]:
    return [np.asarray(decode_page(page).convert("L")) < 128 for page in read_fax_pages(tiff)]


def _grown(ink: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Ink grown by one pixel each way (a stroke edge may fall one pixel over)."""
    image = Image.fromarray(ink.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(3))
    return np.asarray(image) > 0


def _ink_found(ink: NDArray[np.bool_], other: NDArray[np.bool_]) -> float:
    """The share of `ink` pixels that `other` has too (within one pixel)."""
    return float((ink & _grown(other)).sum() / max(1, ink.sum()))


@pytest.mark.parametrize("kind", list(RASTER_KINDS))
def test_pwg_raster_gives_the_pages_of_the_pdf(
    kind: str, sources: dict[str, Path], mimetype_dir: Path, tmp_path: Path
) -> None:
    pwg = _pwg(sources["ps"], tmp_path / f"letter-{kind}.pwg", kind, 300)
    assert sniff_mime_type(pwg) == "image/pwg-raster"
    options = FaxPageOptions()
    converted = convert_document(mimetype_dir, pwg, "image/pwg-raster", tmp_path / "pwg.tif")
    from_pdf = convert_document(
        mimetype_dir, sources["pdf"], "application/pdf", tmp_path / "pdf.tif"
    )
    assert converted.pages == from_pdf.pages == 2
    infos = inspect_tiff(converted.path)
    assert [(info.width, info.x_dpi, info.y_dpi) for info in infos] == [(1728, 204.0, 196.0)] * 2
    assert all(info.is_fax_page(options) for info in infos)

    raster_pages, pdf_pages = _ink(converted.path), _ink(from_pdf.path)
    for raster, pdf in zip(raster_pages, pdf_pages, strict=True):
        assert raster.shape == pdf.shape
        assert (raster == pdf).mean() > 0.99
        # the text is there: nearly all of the PDF's ink, and little else
        assert pdf.sum() > 2000
        assert _ink_found(pdf, raster) > 0.95
        assert _ink_found(raster, pdf) > 0.95
    # and each page is its own page, not the other one (the check above can tell them apart)
    assert _ink_found(pdf_pages[0], raster_pages[1]) < 0.8


def test_normal_resolution_from_a_150_dpi_raster(
    sources: dict[str, Path], mimetype_dir: Path, tmp_path: Path
) -> None:
    pwg = _pwg(sources["ps"], tmp_path / "letter-150.pwg", "sgray-8", 150)
    options = FaxPageOptions(resolution=Resolution.NORMAL)
    converted = convert_document(
        mimetype_dir, pwg, "image/pwg-raster", tmp_path / "normal.tif", options
    )
    from_pdf = convert_document(
        mimetype_dir, sources["pdf"], "application/pdf", tmp_path / "pdf.tif", options
    )
    infos = inspect_tiff(converted.path)
    assert [(info.width, info.y_dpi) for info in infos] == [(1728, 98.0)] * 2
    for raster, pdf in zip(_ink(converted.path), _ink(from_pdf.path), strict=True):
        # 1754 raster lines at 150 dpi are 11.693 in, the PDF's 842 pt 11.694 in: one fax line
        # may differ at the foot of the page
        assert abs(raster.shape[0] - pdf.shape[0]) <= 1
        rows = min(raster.shape[0], pdf.shape[0])
        assert _ink_found(pdf[:rows], raster[:rows]) > 0.9
        assert _ink_found(raster[:rows], pdf[:rows]) > 0.9


def test_spandsp_sends_the_converted_raster_unchanged(
    sources: dict[str, Path], mimetype_dir: Path, tmp_path: Path
) -> None:
    pwg = _pwg(sources["ps"], tmp_path / "letter.pwg", "sgray-8", 300)
    converted = convert_document(mimetype_dir, pwg, "image/pwg-raster", tmp_path / "fax.tif")
    check = check_sendable(converted.path)
    assert check.ok, check.describe()
    assert len(check.pages_equal) == 2


def test_a_truncated_job_fails_with_a_message_for_the_sender(
    sources: dict[str, Path], mimetype_dir: Path, tmp_path: Path
) -> None:
    pwg = _pwg(sources["ps"], tmp_path / "letter.pwg", "sgray-8", 300)
    data = pwg.read_bytes()
    cut = tmp_path / "cut.pwg"
    cut.write_bytes(data[: len(data) * 3 // 4])  # inside page 2
    with pytest.raises(ConversionError, match="truncated on page 2"):
        convert_document(mimetype_dir, cut, "image/pwg-raster", tmp_path / "out.tif")
    assert not (tmp_path / "out.tif").exists()


def test_the_shipped_script_runs_as_a_plain_executable(
    sources: dict[str, Path], mimetype_dir: Path, tmp_path: Path
) -> None:
    """The script itself (not the zygote shortcut) runs the converter: an edited copy works."""
    pwg = _pwg(sources["ps"], tmp_path / "letter.pwg", "black-1", 300)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "FAXGATE_PYTHON": sys.executable,
        **FaxPageOptions().to_environment(),
    }
    script = mimetype_dir / "image" / "pwg-raster"
    run = subprocess.run(
        [str(script), str(pwg), str(tmp_path / "out.tif")],
        env=env,
        capture_output=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert len(inspect_tiff(tmp_path / "out.tif")) == 2
    damaged = tmp_path / "damaged.pwg"
    damaged.write_bytes(b"RaS2" + b"\x00" * 100)
    failed = subprocess.run(
        [str(script), str(damaged), str(tmp_path / "never.tif")],
        env=env,
        capture_output=True,
        check=False,
    )
    assert failed.returncode == 1
    assert (
        failed.stderr.decode().strip() == "the PWG raster file is truncated in the header of page 1"
    )
