"""The e-mail server the appliance sends notifications and received faxes through."""

from faxgate.settings.registry import Key, KeyType

P = "sys.fax.configure.mail."

KEYS = [
    Key(
        P + "server",
        KeyType.HOST_PORT_OR_EMPTY,
        "",
        programs=("faxqueued",),
        help="Mail server (smart host) as host:port, e.g. mail.example.com:25. Empty: outgoing mail "
        "is delivered into the Maildir outbox/maildir/ in the spool, readable with any mail client.",
    ),
    Key(
        P + "tls",
        KeyType.CHOICE,
        "starttls",
        choices=("none", "starttls", "tls"),
        programs=("faxqueued",),
        help="Encryption to the mail server: none, starttls (when offered) or tls (implicit, port 465).",
    ),
    Key(
        P + "username",
        KeyType.STRING,
        "",
        programs=("faxqueued",),
        help="User name for SMTP authentication at the mail server (empty: no authentication).",
    ),
    Key(
        P + "password",
        KeyType.SECRET,
        "",
        programs=("faxqueued",),
        help="Password for SMTP authentication at the mail server.",
    ),
    Key(
        P + "domain",
        KeyType.STRING,
        "localhost",
        programs=("faxqueued", "smtpfaxd", "ippfaxd"),
        help="Mail domain of the company: user@<domain> is where a print user's notifications go.",
    ),
    Key(
        P + "faxmaster",
        KeyType.EMAIL,
        "faxmaster@localhost",
        programs=("faxqueued", "smtpfaxd", "ippfaxd"),
        help="Address of the fax administrator: default notifications, faxes to unknown extensions, "
        "mail that could not be delivered.",
    ),
    Key(
        P + "sender",
        KeyType.EMAIL,
        "fax@localhost",
        programs=("faxqueued",),
        help="From address of the mail the appliance sends.",
    ),
]
