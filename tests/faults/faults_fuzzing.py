"""Shared Hypothesis settings and fault fixtures of the fuzz tests (tests/faults/test_fuzz_*).

`make test` runs a bounded number of examples per parser; a longer run sets
FAXGATE_FUZZ_EXAMPLES (e.g. 20000) — see docs/security.md. Every input that once crashed a
parser is kept under tests/fixtures/faults/<area>/ and replayed by the tests of that area.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, reject, settings

FAULT_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "faults"
EXAMPLES = int(os.environ.get("FAXGATE_FUZZ_EXAMPLES", "150"))


def fuzz_settings(share: float = 1.0) -> settings:
    """Hypothesis settings for one fuzz test; `share` scales the example count (slow targets)."""
    return settings(
        max_examples=max(10, int(EXAMPLES * share)),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        derandomize=False,
    )


def fault_inputs(area: str) -> list[Path]:
    """The kept crash inputs of one area (files, sorted), for replay tests."""
    folder = FAULT_FIXTURES / area
    return (
        sorted(p for p in folder.iterdir() if p.is_file() and p.name != "README.md")
        if folder.is_dir()
        else []
    )


# ---------------------------------------------------------------------------------------------
# Crashes found by fuzzing whose fix belongs to another part and has not landed yet. Each has
# its input under tests/fixtures/faults/; the replay test of that input is an expected failure
# (strict: it turns red when the fix lands, so the entry here is removed with the fix), and
# the random fuzz tests skip the same crash so they keep looking for new ones.


@dataclass(frozen=True)
class KnownBug:
    fixture: str  # path under tests/fixtures/faults/
    exception: type[BaseException]
    message: str  # a fragment of the exception's message
    where: str  # the code that should have turned it into the part's own error


KNOWN_OPEN_BUGS: tuple[KnownBug, ...] = (
)  # fmt: skip


def known_bug_of(exc: BaseException) -> KnownBug | None:
    for bug in KNOWN_OPEN_BUGS:
        if isinstance(exc, bug.exception) and bug.message in str(exc):
            return bug
    return None


@contextmanager
def tolerating_known_bugs() -> Iterator[None]:
    """Let a random fuzz test skip an input that hits a crash already on the known list."""
    try:
        yield
    except Exception as exc:
        if known_bug_of(exc) is None:
            raise
        reject()


def replay_marks(area: str, path: Path) -> list[pytest.MarkDecorator]:
    """xfail(strict) for a kept input whose fix has not landed yet."""
    name = f"{area}/{path.name}"
    return [
        pytest.mark.xfail(strict=True, reason="open bug: " + bug.where)
        for bug in KNOWN_OPEN_BUGS
        if bug.fixture == name
    ]


def replay_params(area: str) -> Sequence[object]:
    """pytest params of the kept inputs of one area, known open bugs marked."""
    kept = [
        pytest.param(path, id=path.name, marks=replay_marks(area, path))
        for path in fault_inputs(area)
    ]
    return kept or [
        pytest.param(None, id="none", marks=pytest.mark.skip(reason=f"no kept {area} inputs yet"))
    ]
