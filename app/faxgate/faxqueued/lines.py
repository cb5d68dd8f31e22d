"""What iaxmodemd says about its lines (`status` answer), parsed into plain values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LINE_STATES = frozenset({"idle", "registering", "dialling", "sending", "receiving", "down"})


@dataclass(frozen=True)
class LineStatus:
    """One line as iaxmodemd reports it."""

    line: str
    state: str
    detail: str = ""
    job: int | None = None

    @property
    def free(self) -> bool:
        """A line that may take a dial order now."""
        return self.state == "idle" and self.job is None


def parse_status(answer: dict[str, Any]) -> list[LineStatus]:
    """The lines of a `{"op":"status"}` answer; raises ValueError for a malformed answer."""
    if not answer.get("ok"):
        raise ValueError(f"status refused: {answer.get('error', 'no reason given')}")
    lines = answer.get("lines")
    if not isinstance(lines, list):
        raise ValueError("status answer has no list of lines")
    parsed: list[LineStatus] = []
    for entry in lines:
        if not isinstance(entry, dict) or "line" not in entry:
            raise ValueError(f"malformed line entry {entry!r}")
        job = entry.get("job")
        parsed.append(
            LineStatus(
                line=str(entry["line"]),
                state=str(entry.get("state", "down")),
                detail=str(entry.get("detail", "")),
                job=int(job) if isinstance(job, int) and not isinstance(job, bool) else None,
            )
        )
    return parsed


def line_order(lines: list[LineStatus]) -> list[str]:
    """Every line name in a stable order (numeric names numerically)."""
    names = [status.line for status in lines]
    return sorted(names, key=lambda name: (0, int(name), "") if name.isdigit() else (1, 0, name))


def jobs_on_lines(lines: list[LineStatus]) -> set[int]:
    return {status.job for status in lines if status.job is not None}
