"""Scheduling and retry rules of the fax queue (HylaFAX faxq)."""

from faxgate.settings.registry import Key, KeyType

P = "sys.fax.configure.queue."


def _seconds(name: str, default: int, help_text: str) -> Key:
    return Key(
        P + name,
        KeyType.INTEGER,
        default,
        minimum=0,
        maximum=7 * 86400,
        programs=("faxqueued",),
        help=help_text,
    )


KEYS = [
    Key(
        P + "priority",
        KeyType.INTEGER,
        200,
        minimum=0,
        maximum=255,
        programs=("faxqueued",),
        help="Default priority of mail, upload and API jobs (0-255, lower is sent first).",
    ),
    Key(
        P + "tries",
        KeyType.INTEGER,
        3,
        minimum=1,
        maximum=99,
        programs=("faxqueued",),
        help="Maximum tries of a job: calls that reached the fax handshake.",
    ),
    Key(
        P + "dials",
        KeyType.INTEGER,
        12,
        minimum=1,
        maximum=99,
        programs=("faxqueued",),
        help="Maximum dials of a job, whatever their outcome (busy, no answer, ...).",
    ),
    _seconds("killtime", 3 * 3600, "A job not done this many seconds after submission fails."),
    _seconds("retry.busy", 180, "Wait before the next try after a busy signal."),
    _seconds("retry.noanswer", 300, "Wait before the next try after no answer."),
    _seconds("retry.protocol", 60, "Wait before the next try after a fax protocol failure."),
    _seconds("retry.other", 300, "Wait before the next try after any other failure."),
    _seconds(
        "outbox.giveup",
        4 * 86400,
        "Outgoing mail the mail server does not take is retried this long (seconds), then "
        "bounced to the faxmaster.",
    ),
    Key(
        P + "workers",
        KeyType.INTEGER,
        2,
        minimum=1,
        maximum=16,
        programs=("faxqueued",),
        restart=True,
        help="Conversion workers (subprocess pool) of the intake.",
    ),
]
