"""Dialling: the outside-line prefix and the numbers nobody may fax, for every gateway."""

from faxgate.settings.registry import Key, KeyType, SettingValue

P = "sys.fax.configure.dial."


def _digits_or_empty(value: SettingValue) -> str | None:
    if isinstance(value, str) and value and not value.isdigit():
        return "must be digits only (e.g. 0 for an outside line), or empty"
    return None


def _number_patterns(value: SettingValue) -> str | None:
    assert isinstance(value, list)
    for item in value:
        if not item.rstrip("*").isdigit() or "*" in item.rstrip("*"):
            return f"{item!r} is not a number pattern (digits, optionally ending in *, e.g. 0900*)"
    return None


KEYS = [
    Key(
        P + "prefix",
        KeyType.STRING,
        "",
        programs=("smtpfaxd", "faxqueued"),
        check=_digits_or_empty,
        help="Digits put in front of every number dialled (e.g. 0 for an outside line), whatever "
        "gateway the fax came through. Empty: numbers are dialled as written.",
    ),
    Key(
        P + "blocked",
        KeyType.LIST,
        ["110", "112", "0900*", "0137*", "0138*", "118*"],
        programs=("smtpfaxd", "faxqueued"),
        check=_number_patterns,
        help="Numbers nobody may fax, by mail, print, upload or API: whole numbers (110) or "
        "prefixes ending in * (0900*), checked against the number as written (after 00 for +) "
        "and as dialled. Default: emergency and premium-rate numbers.",
    ),
]
