"""Document bombs end as clear conversion failures, within the converter limits.

A 60000 × 60000 pixel G4 TIFF of 7 KB, PostScript that eats memory or prints a hundred
thousand pages, and the PDF bombs of the document corpus: each must stop with a
`ConversionError` (mostly `ConversionLimitError`) whose message tells the sender what was too
big — not a crashed or hung worker, not a half-written output.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from faxgate.appliance import rootfs_dir
from faxgate.convert.options import FaxPageOptions
from faxgate.convert.runner import convert_document
from faxgate.convert.sniff import sniff_mime_type
from faxgate.errors import ConversionError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BOMBS = [
    FIXTURES / "faults" / "bombs" / "bomb-60000x60000-g4.tif",
    FIXTURES / "faults" / "bombs" / "bomb-memory.ps",
    FIXTURES / "faults" / "bombs" / "bomb-pages.ps",
    FIXTURES / "documents" / "bomb-pages.pdf",
    FIXTURES / "documents" / "bomb-forms.pdf",
    FIXTURES / "documents" / "bomb.png",
]
MIMETYPES = rootfs_dir() / "usr/lib/faxgate/mimetype"
# the shipped limits, smaller in time and memory so the suite stays quick
LIMITS = FaxPageOptions(time_limit_s=20, memory_limit_mb=512, page_limit=200)
WORDS = ("limit", "pages", "memory", "too", "large", "longer", "big")


@pytest.mark.parametrize("bomb", BOMBS, ids=lambda p: p.name)
def test_a_bomb_is_a_clear_conversion_failure(bomb: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.tif"
    with pytest.raises(ConversionError) as failed:
        convert_document(MIMETYPES, bomb, sniff_mime_type(bomb), out, LIMITS, temp_root=tmp_path)
    message = str(failed.value)
    assert any(word in message.lower() for word in WORDS), message
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name != "out.tif"] == []  # work dirs removed
