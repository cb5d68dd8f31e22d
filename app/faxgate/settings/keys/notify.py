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
    Key(
        "sys.fax.configure.notify.requeued",
        KeyType.BOOLEAN,
        True,
        programs=("faxqueued",),
        help="Mail a notification each time a job is put back in the queue to try again (busy, "
        "no answer, …; like HylaFAX's `notify=when requeued`). Off: only the final result "
        "(sent, failed, cancelled) is mailed.",
    ),
]
