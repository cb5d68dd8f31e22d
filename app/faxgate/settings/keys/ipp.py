"""The IPP printer's own keys (ippfaxd), beside the documented faxprint.* and the listener keys."""

from faxgate.settings.registry import Key, KeyType

P = "sys.fax.configure.ipp."

KEYS = [
    Key(
        P + "auth",
        KeyType.CHOICE,
        "none",
        choices=("none", "optional", "required"),
        programs=("ippfaxd",),
        help="HTTP Basic authentication of print clients with appliance users. none: the "
        "client's user name is trusted; optional: a client that sends credentials must send "
        "valid ones (Windows ignores the challenge, so it prints without); required: every job "
        "needs a valid appliance user and password.",
    ),
    Key(
        P + "dnssd",
        KeyType.BOOLEAN,
        True,
        programs=("ippfaxd",),
        restart=True,
        help="Advertise the fax printer with DNS-SD (Bonjour, _ipp._tcp) so macOS and Linux "
        "find it without typing its address. Needs avahi on the host.",
    ),
    Key(
        P + "printername",
        KeyType.STRING,
        "Fax",
        programs=("ippfaxd",),
        restart=True,
        help="Name under which the fax printer is advertised and shown to clients.",
    ),
    Key(
        P + "location",
        KeyType.STRING,
        "",
        programs=("ippfaxd",),
        help="Printer location shown to clients (e.g. 'Server room').",
    ),
    Key(
        P + "maxsize",
        KeyType.INTEGER,
        200,
        minimum=1,
        maximum=4096,
        programs=("ippfaxd",),
        help="Largest print job accepted, in megabytes.",
    ),
    Key(
        P + "moreinfo",
        KeyType.STRING,
        "",
        programs=("ippfaxd",),
        help="URL of the page about the fax printer given to clients (printer-more-info). "
        "Empty: the web admin on this host.",
    ),
]
