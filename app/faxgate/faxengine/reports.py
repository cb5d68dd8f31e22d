"""What a fax terminal reports: per-page progress and the record of a whole call."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from faxgate.faxengine.codes import (
    SAMPLE_RATE,
    Y_RESOLUTION_FINE,
    Y_RESOLUTION_STANDARD,
    Y_RESOLUTION_SUPERFINE,
    Encoding,
)
from faxgate.faxengine.library import T30Stats
from faxgate.faxengine.outcomes import Outcome


class Role(enum.Enum):
    """Which way the document travels on this terminal."""

    SENDER = "sender"
    RECEIVER = "receiver"


def resolution_name(y_resolution: int) -> str:
    """`normal`, `fine` or `superfine` for a spandsp Y resolution in pixels per metre."""
    names = {
        Y_RESOLUTION_STANDARD: "normal",
        Y_RESOLUTION_FINE: "fine",
        Y_RESOLUTION_SUPERFINE: "superfine",
    }
    return names.get(y_resolution, f"{y_resolution / 39.37:.0f} lpi" if y_resolution else "")


def encoding_name(encoding: int) -> str:
    """MH, MR, MMR … for a spandsp `T4_COMPRESSION_*` value."""
    try:
        return Encoding(encoding).label
    except ValueError:
        return f"encoding {encoding}"


@dataclass(frozen=True)
class PageReport:
    """One page finished (phase D), with the figures spandsp had for it at that moment."""

    page: int  # pages transferred so far on this call, this one included
    pages_in_file: int | None  # sender only: pages in the document (None if unknown)
    bit_rate: int
    ecm: bool
    resolution: str  # normal, fine, superfine
    x_resolution: int  # pixels per metre
    y_resolution: int
    width: int  # pixels
    length: int  # rows
    encoding: str  # MH, MR, MMR
    image_bytes: int
    bad_rows: int
    ecm_retries: int
    line_seconds: float  # line time since the call started

    @classmethod
    def from_stats(cls, role: Role, stats: T30Stats, samples: int) -> PageReport:
        """Build from a `t30_stats_t` read inside the phase-D handler."""
        page = stats.pages_tx if role is Role.SENDER else stats.pages_rx
        return cls(
            page=page,
            # For a receiver spandsp counts pages written so far here, not a document size.
            pages_in_file=(
                stats.pages_in_file if role is Role.SENDER and stats.pages_in_file >= 0 else None
            ),
            bit_rate=stats.bit_rate,
            ecm=bool(stats.error_correcting_mode),
            resolution=resolution_name(stats.y_resolution),
            x_resolution=stats.x_resolution,
            y_resolution=stats.y_resolution,
            width=stats.width,
            length=stats.length,
            encoding=encoding_name(stats.encoding),
            image_bytes=stats.image_size,
            bad_rows=stats.bad_rows,
            ecm_retries=stats.error_correcting_mode_retries,
            line_seconds=samples / SAMPLE_RATE,
        )


@dataclass(frozen=True)
class CallReport:
    """The record of one fax call on one terminal, as the ledger and session log keep it."""

    role: Role
    outcome: Outcome
    completion_code: int | None  # None when phase E never came (call ended by terminate/close)
    completion_text: str  # spandsp's own words, for the session log
    message: str  # plain words for a person
    retryable: bool
    local_ident: str
    remote_ident: str
    pages: int  # pages transferred (sent and confirmed, or received)
    pages_in_file: int | None  # sender: pages in the document
    bit_rate: int  # of the last page (0 if no page was transferred)
    ecm: bool
    resolution: str
    encoding: str
    line_seconds: float  # samples exchanged / 8000: the call's line time
    fax_seconds: float  # line time from the first T.30 exchange (phase B) to the end (phase E)
    page_reports: tuple[PageReport, ...] = ()

    @property
    def succeeded(self) -> bool:
        """True when the whole document went through."""
        return self.outcome is Outcome.DONE
