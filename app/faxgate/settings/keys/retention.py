"""Cleaning up the spool ("Maintaining the queues and log files")."""

from faxgate.settings.registry import Key, KeyType

KEYS = [
    Key(
        "sys.fax.configure.retention.days",
        KeyType.INTEGER,
        30,
        minimum=1,
        maximum=3650,
        programs=("faxqueued",),
        help="Days finished jobs, received faxes and logs are kept before the cleanup removes them.",
    ),
    Key(
        "sys.fax.configure.retention.schedule",
        KeyType.CRON,
        "30 3 * * 0",
        programs=("faxqueued",),
        help="When the job 'Clean up fax server' runs, as a cron schedule (default weekly, "
        "Sunday 03:30).",
    ),
]
