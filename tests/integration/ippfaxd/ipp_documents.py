"""Sample documents for ipptool's conformance files and the CUPS tests, made on the spot.

ipptool's test files name documents that Debian does not ship (document-a4.pdf, color.jpg,
pwg-raster-samples-*/...); they are generated here with Ghostscript and Pillow next to a copy
of the test file. PWG raster samples are made only for the resolutions and types the printer
advertises; ipp-everywhere.test skips the others (SKIP-IF-MISSING).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from PIL import Image

IPPTOOL_DIR = Path("/usr/share/cups/ipptool")
PAGE_POINTS = {"a4": (595, 842), "letter": (612, 792), "4x6": (288, 432)}
# cupsColorSpace, cupsBitsPerColor. The printer advertises black_1 and sgray_8 only, but
# ipptool opens every FILE of a test it parses, so the other types must exist too.
RASTER_TYPES = {
    "black-1": (3, 1),
    "sgray-8": (18, 8),
    "cmyk-8": (6, 8),
    "srgb-8": (19, 8),
    "srgb-16": (19, 16),
}
RASTER_DPI = (150, 300)


def postscript(pages: list[list[str]], size: str = "a4") -> bytes:
    """A PostScript document with the given lines of text on each page (Helvetica 11 pt)."""
    width, height = PAGE_POINTS[size]
    out = [
        "%!PS-Adobe-3.0",
        f"%%BoundingBox: 0 0 {width} {height}",
        f"%%Pages: {len(pages)}",
        "%%EndComments",
    ]
    for number, lines in enumerate(pages, 1):
        out += [
            f"%%Page: {number} {number}",
            f"<< /PageSize [{width} {height}] >> setpagedevice",
            "/Helvetica findfont 11 scalefont setfont",
        ]
        y = height - 72
        for line in lines:
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            out.append(f"72 {y} moveto ({escaped}) show")
            y -= 16
        out.append("showpage")
    out.append("%%EOF")
    return ("\n".join(out) + "\n").encode("latin-1")


def ps_to_pdf(ps_path: Path, pdf_path: Path) -> None:
    subprocess.run(
        ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite",
         f"-sOutputFile={pdf_path}", str(ps_path)],
        check=True,
    )  # fmt: skip


def ps_to_pwg(ps_path: Path, pwg_path: Path, dpi: int, kind: str) -> None:
    space, bits = RASTER_TYPES[kind]
    pwg_path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["gs", "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pwgraster", f"-r{dpi}",
         f"-dcupsColorSpace={space}", f"-dcupsBitsPerColor={bits}",
         f"-sOutputFile={pwg_path}", str(ps_path)],
        check=True,
        stderr=subprocess.DEVNULL,  # the device reports every page on stderr
    )  # fmt: skip


def prepare_ipptool_dir(target: Path, test_files: tuple[str, ...]) -> Path:
    """Copy the named test files into `target` and make every document they use."""
    target.mkdir(parents=True, exist_ok=True)
    for name in test_files:
        shutil.copy(IPPTOOL_DIR / name, target / name)
    sources: dict[str, Path] = {}
    for size in ("a4", "letter", "4x6"):
        lines = [f"faxgate conformance test page, {size}", "@@+FAX:0991234@@"]
        ps = target / f"document-{size}.ps"
        ps.write_bytes(postscript([lines], size))
        sources[f"document-{size}"] = ps
        sources[f"onepage-{size}"] = ps
        if size != "4x6":
            ps_to_pdf(ps, target / f"document-{size}.pdf")
    Image.new("RGB", (600, 400), (200, 60, 40)).save(target / "color.jpg", quality=85)
    Image.new("L", (600, 400), 128).save(target / "gray.jpg", quality=85)
    sources["color.jpg-4x6"] = sources["gray.jpg-4x6"] = sources["document-4x6"]
    if "ipp-everywhere.test" in test_files:
        for dpi in RASTER_DPI:
            for kind in RASTER_TYPES:
                folder = target / f"pwg-raster-samples-{dpi}dpi" / kind
                for stem in ("color.jpg-4x6", "gray.jpg-4x6", "document-a4", "document-letter",
                             "onepage-a4", "onepage-letter"):  # fmt: skip
                    if kind.startswith("srgb") and stem.startswith("gray"):
                        continue
                    ps_to_pwg(sources[stem], folder / f"{stem}-{kind}-{dpi}dpi.pwg", dpi, kind)
        # ipptool opens every FILE while parsing, even of tests it will skip: the resolutions
        # the printer does not advertise get empty stand-ins, never sent (SKIP-IF-NOT-DEFINED).
        text = (target / "ipp-everywhere.test").read_text()
        for line in text.splitlines():
            words = line.split()
            if len(words) == 2 and words[0] == "FILE" and words[1].endswith(".pwg"):
                stand_in = target / words[1]
                if not stand_in.exists():
                    stand_in.parent.mkdir(parents=True, exist_ok=True)
                    stand_in.write_bytes(b"")
    return target
