"""faxgate: a fax server appliance (virtual IAX2 fax lines, mail/print-to-fax, web admin)."""

__version__ = "0.1.0"
