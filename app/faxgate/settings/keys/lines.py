"""The virtual fax lines and the trunk they speak IAX2 over."""

from faxgate.settings.registry import Key, KeyType

P = "sys.fax.configure."

KEYS = [
    Key(
        P + "lines.count",
        KeyType.INTEGER,
        4,
        minimum=1,
        maximum=120,
        programs=("iaxmodemd", "faxqueued"),
        restart=True,
        help="Number of virtual fax lines (modems): how many faxes can be sent and received at "
        "once. Four is a reasonable number for an office.",
    ),
    Key(
        P + "lines.bind",
        KeyType.STRING,
        "127.0.0.1",
        programs=("iaxmodemd",),
        restart=True,
        help="Address the lines' UDP ports are bound to (0.0.0.0 for all interfaces).",
    ),
    Key(
        P + "lines.baseport",
        KeyType.INTEGER,
        4570,
        minimum=1024,
        maximum=65000,
        programs=("iaxmodemd",),
        restart=True,
        help="UDP port of the first line; line i uses baseport + i - 1 (like iaxmodem).",
    ),
    Key(
        P + "station.ident",
        KeyType.STRING,
        "faxgate",
        programs=("iaxmodemd",),
        help="Local fax identity (TSI/CSI) sent to the other fax machine, usually your fax number "
        "in international form, at most 20 characters.",
        check=lambda v: "must be at most 20 characters" if len(str(v)) > 20 else None,
    ),
    Key(
        P + "station.header",
        KeyType.STRING,
        "faxgate",
        programs=("iaxmodemd",),
        help="Text of the header line printed at the top of every sent page (the date, time and "
        "page n/m are added by the fax engine). Empty: no header line.",
    ),
    Key(
        P + "ecm",
        KeyType.BOOLEAN,
        True,
        programs=("iaxmodemd",),
        help="Use error correction mode (ECM) when the other side supports it.",
    ),
    Key(
        P + "trunk.mode",
        KeyType.CHOICE,
        "loopback",
        choices=("loopback", "register", "peer"),
        programs=("iaxmodemd",),
        restart=True,
        help="How the lines reach the telephone network. loopback: the lines call each other (demo "
        "and tests). register: each line registers with the IAX2 server as its own peer. peer: "
        "calls go to a static IAX2 peer, no registration.",
    ),
    Key(
        P + "trunk.server",
        KeyType.HOST_PORT_OR_EMPTY,
        "",
        programs=("iaxmodemd",),
        restart=True,
        help="IAX2 server (register mode) or peer (peer mode) as host:port, e.g. pbx.example:4569.",
    ),
    Key(
        P + "trunk.peername",
        KeyType.STRING,
        "faxgate",
        programs=("iaxmodemd",),
        restart=True,
        help="Peer name prefix: line i registers as <peername><i> (faxgate1, faxgate2, ...).",
    ),
    Key(
        P + "trunk.secret",
        KeyType.SECRET,
        "",
        programs=("iaxmodemd",),
        restart=True,
        help="IAX2 secret of the lines' peers (MD5 authentication).",
    ),
    Key(
        P + "trunk.refresh",
        KeyType.INTEGER,
        60,
        minimum=10,
        maximum=3600,
        programs=("iaxmodemd",),
        restart=True,
        help="Registration refresh interval in seconds (register mode).",
    ),
    Key(
        P + "trunk.codec",
        KeyType.CHOICE,
        "slinear",
        choices=("slinear", "ulaw", "alaw"),
        programs=("iaxmodemd",),
        restart=True,
        help="Preferred audio codec. slinear is lossless and best for fax on a LAN; ulaw/alaw for "
        "trunks that insist on G.711.",
    ),
]
