"""Keys of the mail-to-fax gateway beyond the vendor's two (`faxmail.matcher.fax`, `faxmail.mode`).

The listener itself (`smtp.bind|port|networks`) is declared with the other listeners; here are
the SMTP service's limits and security, and how recipient addresses become numbers.
"""

from faxgate.settings.registry import Key, KeyType

SMTP = "sys.fax.configure.smtp."
FAXMAIL = "sys.fax.configure.faxmail."


KEYS = [
    Key(
        SMTP + "maxsize",
        KeyType.INTEGER,
        32,
        minimum=1,
        maximum=1024,
        programs=("smtpfaxd",),
        restart=True,
        help="Largest mail the gateway accepts, in MiB (advertised as SIZE; larger mails are "
        "refused at MAIL FROM). Attachments grow by a third in a mail.",
    ),
    Key(
        SMTP + "minfree",
        KeyType.INTEGER,
        64,
        minimum=0,
        maximum=1_048_576,
        programs=("smtpfaxd",),
        help="Free space in MiB the spool must keep; below it mail is answered 452 (try later) "
        "so the sending server keeps it and retries.",
    ),
    Key(
        SMTP + "maxsessions",
        KeyType.INTEGER,
        20,
        minimum=1,
        maximum=1000,
        programs=("smtpfaxd",),
        help="Largest number of SMTP sessions at once; more are answered 421 (try later). Each "
        "session may hold a mail of up to maxsize in memory. One client address may hold a "
        "quarter of them (at least one), so a single slow client cannot lock the others out.",
    ),
    Key(
        SMTP + "hostname",
        KeyType.STRING,
        "faxgate",
        programs=("smtpfaxd",),
        restart=True,
        help="Name the gateway gives in its greeting and EHLO answer.",
    ),
    Key(
        SMTP + "tls.certificate",
        KeyType.STRING,
        "",
        programs=("smtpfaxd",),
        restart=True,
        help="PEM certificate (chain) for STARTTLS. Empty: a self-signed certificate is made at "
        "first start in the spool's etc/smtpfaxd-cert.pem.",
    ),
    Key(
        SMTP + "tls.key",
        KeyType.STRING,
        "",
        programs=("smtpfaxd",),
        restart=True,
        help="PEM private key for tls.certificate. Empty: etc/smtpfaxd-key.pem (made with the "
        "self-signed certificate).",
    ),
    Key(
        SMTP + "auth",
        KeyType.CHOICE,
        "optional",
        choices=("off", "optional", "required"),
        programs=("smtpfaxd",),
        restart=True,
        help="SMTP authentication (PLAIN/LOGIN, offered only after STARTTLS) against the "
        "appliance users. off: not offered. optional: clients from the allowed networks may send "
        "without it, and an authenticated user may send from anywhere. required: every client "
        "must authenticate.",
    ),
    Key(
        FAXMAIL + "domains",
        KeyType.LIST,
        ["fax"],
        programs=("smtpfaxd",),
        help="Recipient domains the gateway takes mail for: a recipient's domain must be one of "
        "these or below one of them (fax accepts 0991234.fax). For 009912700619@mydomain.de add "
        "mydomain.de. Everything else is refused: the gateway is never an open relay.",
    ),
    Key(
        FAXMAIL + "notify.replyto",
        KeyType.BOOLEAN,
        False,
        programs=("faxqueued",),
        help="Send a mail job's notifications to its Reply-To address instead of the envelope "
        "sender (useful when mail passes through a list or a shared mailbox).",
    ),
]
