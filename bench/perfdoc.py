"""Writing one benchmark's section of docs/performance.md without touching the others."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "performance.md"
TITLE = "# Performance\n\nFigures written by the benchmarks in `bench/` (`make bench`); each section says how it was\nmeasured and against which reference in the same run.\n"


def write_section(heading: str, body: str) -> None:
    """Replace (or append) the section `## heading` with `body`."""
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else TITLE
    section = f"## {heading}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(heading)}\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    if pattern.search(text):
        text = pattern.sub(lambda _: section + "\n", text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOC.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
