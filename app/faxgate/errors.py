"""One exception hierarchy for faxgate.

Every error a person may see carries a message a non-programmer understands: it ends up in a
notification mail, on an admin page or in `faxctl` output, so it says what went wrong and, where
possible, what to change.
"""


class FaxgateError(Exception):
    """Base of every error faxgate raises on purpose."""


class SettingsError(FaxgateError):
    """A settings key or value is unknown or invalid (the message names key, value and reason)."""


class SpoolError(FaxgateError):
    """The spool is missing, damaged or cannot be written (disk full, permissions)."""


class LedgerError(FaxgateError):
    """The job ledger (SQLite) refused an operation."""


class ConversionError(FaxgateError):
    """A document could not be turned into fax pages (or a fax into a PDF)."""


class ProtocolError(FaxgateError):
    """A peer spoke IAX2, IPP or SMTP in a way we cannot accept."""


class FaxCallError(FaxgateError):
    """A fax call failed; the message says why in plain words."""


class NotFoundError(FaxgateError):
    """A job, fax, device or user that was asked for does not exist."""
