"""docs/fax-engine.md's completion-code table says what the code does."""

from __future__ import annotations

from pathlib import Path

import pytest

from faxgate.faxengine.codes import T30Error
from faxgate.faxengine.outcomes import classify_completion

DOC = Path(__file__).parents[3] / "docs" / "fax-engine.md"


@pytest.mark.parametrize("code", list(T30Error), ids=lambda c: c.name)
def test_documented_outcome_matches_the_code(code: T30Error) -> None:
    rows = [line for line in DOC.read_text().splitlines() if line.startswith(f"| {int(code)} |")]
    assert len(rows) == 1, f"{code.name} has no row in {DOC.name}"
    cells = [cell.strip() for cell in rows[0].strip("|").split("|")]
    info = classify_completion(int(code))
    assert cells[1] == code.name
    assert cells[3] == info.outcome.name
    assert cells[4] == ("yes" if info.retryable else "no")
    assert cells[5] == info.message
