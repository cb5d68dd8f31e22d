"""Network listeners and who may reach them."""

from faxgate.settings.registry import Key, KeyType

LOCAL_AND_PRIVATE = [
    "127.0.0.0/8",
    "::1/128",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "fc00::/7",
]


def _listener(program: str, name: str, port: int, what: str) -> list[Key]:
    p = f"sys.fax.configure.{name}."
    return [
        Key(
            p + "bind",
            KeyType.STRING,
            "127.0.0.1",
            programs=(program,),
            restart=True,
            help=f"Address the {what} listens on (0.0.0.0 for all interfaces).",
        ),
        Key(
            p + "port",
            KeyType.INTEGER,
            port,
            minimum=1,
            maximum=65535,
            programs=(program,),
            restart=True,
            help=f"TCP port of the {what}.",
        ),
        Key(
            p + "networks",
            KeyType.NETWORKS,
            list(LOCAL_AND_PRIVATE),
            programs=(program,),
            help=f"Client networks allowed to use the {what}; others are refused.",
        ),
    ]


KEYS = [
    *_listener("smtpfaxd", "smtp", 2525, "mail-to-fax gateway (SMTP)"),
    *_listener("ippfaxd", "ipp", 8631, "print-to-fax gateway (IPP printer)"),
    *_listener("faxadmin", "admin", 8080, "web admin and REST API"),
]
