"""How fast the fax engine moves pages in-process, against real (line) time.

Faxes the test documents (built like tests/fixtures/faxengine/build_pages.py) from one spandsp
terminal to another with faxgate.faxengine.transfer, several times each, and prints wall time per
page and the speed-up over the call's own line time (the reference: a real call takes exactly its
line time). Run: `.venv/bin/python bench/faxengine.py [repeats]`.
"""

from __future__ import annotations

import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path

from faxgate.faxengine import Codec, LineModel, transfer

ROOT = Path(__file__).resolve().parents[1]
BUILDER = ROOT / "tests" / "fixtures" / "faxengine" / "build_pages.py"


def _documents(directory: Path) -> dict[str, Path]:
    spec = importlib.util.spec_from_file_location("faxengine_build_pages", BUILDER)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    documents: dict[str, Path] = module.build_documents(directory)
    return documents


CASES = [
    ("fine_g4_1", "1 page fine, ECM, slinear", True, Codec.SLINEAR),
    ("fine_g4_3", "3 pages fine, ECM, slinear", True, Codec.SLINEAR),
    ("fine_g4_3", "3 pages fine, no ECM, slinear", False, Codec.SLINEAR),
    ("fine_g4_3", "3 pages fine, ECM, µ-law", True, Codec.ULAW),
    ("normal_g3_2", "2 pages normal, ECM, slinear", True, Codec.SLINEAR),
]


def main(repeats: int = 5) -> None:
    """Print one markdown table row per case."""
    with tempfile.TemporaryDirectory() as scratch:
        documents = _documents(Path(scratch) / "documents")
        print(f"faxengine transfer, median of {repeats} runs, {time.strftime('%Y-%m-%d')}")
        print("| case | pages | line time s | wall s | wall s/page | × real time |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, label, ecm, codec in CASES:
            walls: list[float] = []
            line_seconds = 0.0
            pages = 0
            for _ in range(repeats):
                result = transfer(
                    documents[name], Path(scratch) / "out.tif", ecm=ecm, line=LineModel(codec)
                )
                if not result.succeeded:
                    raise SystemExit(f"{label}: transfer failed: {result.sender.message}")
                walls.append(result.wall_seconds)
                line_seconds, pages = result.line_seconds, result.receiver.pages
            wall = statistics.median(walls)
            print(
                f"| {label} | {pages} | {line_seconds:.1f} | {wall:.3f} | {wall / pages:.3f} "
                f"| {line_seconds / wall:.0f} |"
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
