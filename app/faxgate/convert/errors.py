"""Conversion errors beyond the general `ConversionError`."""

from __future__ import annotations

from faxgate.errors import ConversionError


class UnsupportedTypeError(ConversionError):
    """No converter exists for a MIME type: the part is skipped and the sender told so."""

    def __init__(self, mime_type: str) -> None:
        super().__init__(f"skipped: no converter for {mime_type}")
        self.mime_type = mime_type


class ConversionLimitError(ConversionError):
    """A document needed more time, memory or pages than the configured limits allow."""
