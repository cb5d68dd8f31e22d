"""Hostile PostScript through the real converters: Ghostscript runs with -dSAFER.

Each job tries one way out of the sandbox and, if it got one, prints what it read on the page.
The pages' text is read back with the same extractor the print gateway uses (Ghostscript
txtwrite, also -dSAFER), and a marker file shows whether a pipe or a write got through. The
conversion may succeed (with the refusal on the page) or fail cleanly; it never leaks.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from faxgate.appliance import rootfs_dir
from faxgate.convert.extract import extract_page_texts
from faxgate.convert.options import FaxPageOptions
from faxgate.convert.runner import convert_document
from faxgate.errors import ConversionError

MIMETYPES = rootfs_dir() / "usr/lib/faxgate/mimetype"
LIMITS = FaxPageOptions(time_limit_s=30, memory_limit_mb=512)
SHOW = "/Helvetica findfont 10 scalefont setfont 72 700 moveto"


def reading(expression: str) -> str:
    """A job that runs `expression` (leaving a string) and shows it, or DENIED."""
    return f"%!PS\n{SHOW}\n{{ {expression} }} stopped {{ (DENIED) }} if\nshow showpage\n"


ATTACKS = {
    "file-read": reading("(/etc/passwd) (r) file 300 string readstring pop"),
    "run-file": "%!PS\n" + SHOW + "\n{ (/etc/passwd) run } stopped pop (DONE) show showpage\n",
    "proc-environ": reading("(/proc/self/environ) (r) file 300 string readstring pop"),
    "pipe-read": reading("(%pipe%cat /etc/passwd) (r) file 300 string readstring pop"),
    "pipe-write": "%!PS\n{ (%pipe%touch MARKER) (w) file closefile } stopped pop\n" + SHOW
    + "\n(X) show showpage\n",
    "write-file": "%!PS\n{ (MARKER) (w) file dup (x) writestring closefile } stopped pop\n" + SHOW
    + "\n(X) show showpage\n",
    "outputfile-pipe": "%!PS\n{ << /OutputFile (%pipe%touch MARKER) >> setpagedevice } stopped pop\n"
    + SHOW + "\n(X) show showpage\n",
    "safer-off": reading("/SAFER false def .setsafe (/etc/passwd) (r) file 300 string readstring pop"),
    "libfile": reading("(/etc/passwd) .libfile pop 300 string readstring pop"),
    "filenameforall": "%!PS\n" + SHOW + "\n/s 4000 string def /t () def\n"
    "{ (/etc/*) { dup length string copy /t exch def } s filenameforall } stopped pop\n"
    "t length 0 eq { (NONE) } { t } ifelse show showpage\n",
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_hostile_postscript_reads_and_writes_nothing_outside(name: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    source = tmp_path / "job.ps"
    source.write_text(ATTACKS[name].replace("MARKER", str(marker)))
    with contextlib.suppress(ConversionError):
        convert_document(MIMETYPES, source, "application/postscript", tmp_path / "out.tif", LIMITS)
    try:
        text = "\n".join(extract_page_texts(source, "application/postscript", LIMITS))
    except ConversionError as refused:  # stopped as a whole: fine, if it says so
        assert "not allowed" in str(refused)  # noqa: PT017
        text = ""
    else:
        assert text.strip(), "the job showed nothing: it did not run, so it would prove nothing"
    assert "root:" not in text
    assert "PATH=" not in text
    assert "/etc/passwd" not in text.replace("(/etc/passwd)", "")
    assert not marker.exists()
