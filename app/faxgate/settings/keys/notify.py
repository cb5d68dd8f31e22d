"""Notification format."""

from faxgate.settings.registry import Key, KeyType

KEYS = [
    Key(
        "sys.fax.configure.notify.format",
        KeyType.CHOICE,
        "plain",
        choices=("plain", "inline"),
        programs=("faxqueued",),
        help="Format of job notifications: plain text, or inline: an HTML mail with the first page "
        "shown and the fax attached as PDF (same as INLINE=true in etc/FaxNotify, which also "
        "switches it on).",
    ),
]
