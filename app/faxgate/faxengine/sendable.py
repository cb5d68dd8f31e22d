"""One call to prove a fax document is sendable: spandsp sends it and every page arrives intact.

This is what the conversion pipeline's tests (and, if wanted, a pre-flight check before a job
is queued) use: a loopback transfer without a header line, then a pixel comparison of each page.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from faxgate.faxengine.compare import pages_equal
from faxgate.faxengine.loopback import LineModel, LoopbackResult, transfer


@dataclass(frozen=True)
class SendCheck:
    """The loopback transfer of a document and the page-by-page comparison of what arrived."""

    result: LoopbackResult
    pages_equal: tuple[bool, ...]  # one per page of either file

    @property
    def ok(self) -> bool:
        """Sent completely, received completely, every page identical."""
        return self.result.succeeded and bool(self.pages_equal) and all(self.pages_equal)

    def describe(self) -> str:
        """One line for a test failure or a log: what went wrong, in words."""
        sender, receiver = self.result.sender, self.result.receiver
        if self.ok:
            return (
                f"sent {sender.pages} page(s) at {sender.bit_rate} bit/s, "
                f"{'ECM' if sender.ecm else 'no ECM'}, {sender.encoding}, {sender.resolution}"
            )
        if not self.result.succeeded:
            return (
                f"not sendable: {sender.message} (sender: {sender.completion_text}; "
                f"receiver: {receiver.completion_text}; pages {sender.pages}/{receiver.pages})"
            )
        different = [str(n) for n, same in enumerate(self.pages_equal, 1) if not same]
        return f"sent, but page(s) {', '.join(different)} arrived different from the original"


def check_sendable(
    tiff: Path,
    *,
    ecm: bool = True,
    line: LineModel | None = None,
    received_tiff: Path | None = None,
) -> SendCheck:
    """Fax `tiff` to an in-process receiver and compare the pages (no header line is added).

    The received file goes to `received_tiff` if given (to look at), else to a temporary file.
    """
    if received_tiff is not None:
        result = transfer(tiff, received_tiff, ecm=ecm, line=line)
        equal = pages_equal(tiff, received_tiff) if received_tiff.exists() else []
        return SendCheck(result, tuple(equal))
    with tempfile.TemporaryDirectory(prefix="faxgate-sendable-") as scratch:
        received = Path(scratch) / "received.tif"
        result = transfer(tiff, received, ecm=ecm, line=line)
        equal = pages_equal(tiff, received) if received.exists() else []
        return SendCheck(result, tuple(equal))
