"""Document conversion: page format and the limits every converter runs under."""

from faxgate.settings.registry import Key, KeyType

P = "sys.fax.configure.convert."

KEYS = [
    Key(
        P + "resolution",
        KeyType.CHOICE,
        "fine",
        choices=("fine", "normal"),
        programs=("faxqueued",),
        help="Resolution of sent pages: fine (204x196 dpi) or normal (204x98 dpi, faster).",
    ),
    Key(
        P + "compression",
        KeyType.CHOICE,
        "g4",
        choices=("g4", "g3-2d", "g3-1d"),
        programs=("faxqueued",),
        help="Compression of the stored fax pages: g4 (MMR), g3-2d (MR) or g3-1d (MH). The line "
        "negotiates its own; this is the spool format.",
    ),
    Key(
        P + "timeout",
        KeyType.INTEGER,
        120,
        minimum=5,
        maximum=3600,
        programs=("faxqueued",),
        help="Seconds a converter may run before it is stopped (endless PostScript, bombs).",
    ),
    Key(
        P + "memory",
        KeyType.INTEGER,
        1024,
        minimum=64,
        maximum=16384,
        programs=("faxqueued",),
        help="Memory limit of a converter in MiB.",
    ),
    Key(
        P + "maxpages",
        KeyType.INTEGER,
        200,
        minimum=1,
        maximum=10000,
        programs=("faxqueued",),
        help="Largest number of pages a document may have.",
    ),
]
