"""Options that shape a fax page and bound the work of making it.

`FaxPageOptions` is what a caller (faxqueued, a gateway) passes to the pipeline; converters receive
the same values through environment variables (`to_environment` / `from_environment`), so a
converter written by an administrator can honour them too.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass

from faxgate.errors import ConversionError

#: Every fax page is this many pixels wide (ITU-T T.4, 215 mm at 204 dpi).
FAX_WIDTH_PX = 1728
#: Horizontal resolution of every fax page, dots per inch.
FAX_X_DPI = 204
#: Fax paper width in inches (1728 px / 204 dpi, the width of an A4/Letter page as faxed).
FAX_WIDTH_INCHES = FAX_WIDTH_PX / FAX_X_DPI


class Resolution(enum.Enum):
    """Vertical fax resolution: fine (196 lines per inch) or normal (98)."""

    FINE = "fine"
    NORMAL = "normal"

    @property
    def y_dpi(self) -> int:
        """Lines per inch of this resolution."""
        return 196 if self is Resolution.FINE else 98


class Compression(enum.Enum):
    """CCITT coding of the page data: T.6 (G4/MMR), T.4 1-D (MH) or T.4 2-D (MR)."""

    G4 = "g4"
    G3_1D = "g3-1d"
    G3_2D = "g3-2d"


# Defaults chosen for a company fax server: generous for real documents, small enough that a
# hostile document fails in seconds instead of blocking a worker.
DEFAULT_TIME_LIMIT_S = 120.0
DEFAULT_MEMORY_LIMIT_MB = 1024
DEFAULT_PAGE_LIMIT = 200


@dataclass(frozen=True)
class FaxPageOptions:
    """How documents become fax pages and the limits every converter runs under."""

    resolution: Resolution = Resolution.FINE
    compression: Compression = Compression.G4
    page_limit: int = DEFAULT_PAGE_LIMIT
    time_limit_s: float = DEFAULT_TIME_LIMIT_S
    memory_limit_mb: int = DEFAULT_MEMORY_LIMIT_MB

    def __post_init__(self) -> None:
        if self.page_limit < 1:
            raise ValueError("page_limit must be at least 1")
        if self.time_limit_s <= 0:
            raise ValueError("time_limit_s must be positive")
        if self.memory_limit_mb < 64:
            raise ValueError("memory_limit_mb must be at least 64")

    @property
    def y_dpi(self) -> int:
        """Lines per inch of the chosen resolution."""
        return self.resolution.y_dpi

    def cache_key(self) -> str:
        """The part of a cache key that changes the pages (limits do not)."""
        return f"{self.resolution.value}-{self.compression.value}"

    def to_environment(self) -> dict[str, str]:
        """Environment variables that pass these options to a converter process."""
        return {
            "FAXGATE_RESOLUTION": self.resolution.value,
            "FAXGATE_COMPRESSION": self.compression.value,
            "FAXGATE_PAGE_LIMIT": str(self.page_limit),
            "FAXGATE_TIME_LIMIT": str(self.time_limit_s),
            "FAXGATE_MEMORY_LIMIT_MB": str(self.memory_limit_mb),
        }

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> FaxPageOptions:
        """Options as a converter process received them (defaults for what is not set)."""
        env = os.environ if environ is None else environ
        try:
            return cls(
                resolution=Resolution(env.get("FAXGATE_RESOLUTION", Resolution.FINE.value)),
                compression=Compression(env.get("FAXGATE_COMPRESSION", Compression.G4.value)),
                page_limit=int(env.get("FAXGATE_PAGE_LIMIT", DEFAULT_PAGE_LIMIT)),
                time_limit_s=float(env.get("FAXGATE_TIME_LIMIT", DEFAULT_TIME_LIMIT_S)),
                memory_limit_mb=int(env.get("FAXGATE_MEMORY_LIMIT_MB", DEFAULT_MEMORY_LIMIT_MB)),
            )
        except ValueError as exc:
            raise ConversionError(f"invalid conversion option in the environment: {exc}") from exc
