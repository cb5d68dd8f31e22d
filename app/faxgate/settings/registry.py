"""The one registry of settings keys: name, type, default, allowed values, help, who must know.

Every key faxgate reads is declared here (through the modules in `keys/`), so the admin pages,
`faxctl settings`, the environment overrides and docs/configuration.md all come from one place.
Values are parsed from text (YAML scalars, environment variables, `faxctl settings set`) by the
key's type and validated; a bad value raises SettingsError naming the key, the value and why.
"""

from __future__ import annotations

import enum
import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from faxgate.errors import SettingsError
from faxgate.settings.regex_notation import parse_matcher

SettingValue = str | int | bool | list[str]

_KEY_NAME = re.compile(r"\A[a-z][a-z0-9]*(\.[a-z][a-z0-9]*)+\Z")
_EMAIL = re.compile(r"\A[^@\s]+@[^@\s]+\Z")
_CRON_FIELD = re.compile(r"\A(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*\Z")


class KeyType(enum.Enum):
    """How a value is written and checked."""

    STRING = "string"
    SECRET = "secret"  # noqa: S105 -- a string never shown in logs or listings
    INTEGER = "integer"
    BOOLEAN = "boolean"
    CHOICE = "choice"
    MATCHER = "matcher"  # the vendor's /regex/ notation
    REGEX_OR_EMPTY = "regex-or-empty"  # /regex/ or empty (usermangle.search)
    EMAIL = "email"
    EMAIL_OR_EMPTY = "email-or-empty"
    NETWORKS = "networks"  # list of CIDR networks
    CRON = "cron"  # five-field cron schedule
    HOST_PORT_OR_EMPTY = "host-port-or-empty"
    LIST = "list"  # comma-separated strings


PROGRAMS = ("iaxmodemd", "faxqueued", "smtpfaxd", "ippfaxd", "faxadmin")


@dataclass(frozen=True)
class Key:
    """One settings key.

    `programs` are told when the applied value changes; with `restart` they are restarted,
    otherwise they reload their settings on SIGHUP.
    """

    name: str
    type: KeyType
    default: SettingValue
    help: str
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    programs: tuple[str, ...] = ()
    restart: bool = False
    documented: bool = False  # named in the vendor documentation (keeps its name and default)
    check: Callable[[SettingValue], str | None] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not _KEY_NAME.match(self.name):
            raise ValueError(f"bad settings key name {self.name!r}")
        unknown = set(self.programs) - set(PROGRAMS)
        if unknown:
            raise ValueError(f"{self.name}: unknown programs {sorted(unknown)}")

    @property
    def environment_name(self) -> str:
        """FAXGATE_ + the name in capitals with dots as underscores."""
        return "FAXGATE_" + self.name.upper().replace(".", "_")

    def parse(self, raw: object, source: str = "") -> SettingValue:
        """Turn a raw value (text or a YAML scalar/list) into a checked value of this key's type."""
        try:
            value = _coerce(self, raw)
            problem = _validate(self, value) or (self.check(value) if self.check else None)
        except ValueError as exc:
            problem, value = str(exc), None
        if problem:
            where = f" (from {source})" if source else ""
            shown = "***" if self.type is KeyType.SECRET else repr(raw)
            raise SettingsError(f"{self.name} = {shown}{where}: {problem}")
        assert value is not None
        return value

    def render(self, value: SettingValue) -> str:
        """The value as a person writes it (secrets masked)."""
        if self.type is KeyType.SECRET:
            return "********" if value else ""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list):
            return ", ".join(value)
        return str(value)


def _coerce(key: Key, raw: object) -> SettingValue:
    kind = key.type
    if kind is KeyType.INTEGER:
        if isinstance(raw, bool):
            raise ValueError("must be a whole number")
        if isinstance(raw, int):
            return raw
        text = str(raw).strip()
        if not re.fullmatch(r"-?\d+", text):
            raise ValueError("must be a whole number")
        return int(text)
    if kind is KeyType.BOOLEAN:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ValueError("must be true or false")
    if kind in (KeyType.NETWORKS, KeyType.LIST):
        items = raw if isinstance(raw, list) else str(raw).replace("\n", ",").split(",")
        return [str(item).strip() for item in items if str(item).strip()]
    if isinstance(raw, list | dict):
        raise ValueError("must be a single value")
    return str(raw).strip() if kind is not KeyType.SECRET else str(raw)


def _validate(key: Key, value: SettingValue) -> str | None:
    kind = key.type
    if kind is KeyType.INTEGER:
        assert isinstance(value, int)
        if key.minimum is not None and value < key.minimum:
            return f"must be at least {key.minimum}"
        if key.maximum is not None and value > key.maximum:
            return f"must be at most {key.maximum}"
    elif kind is KeyType.CHOICE:
        if value not in key.choices:
            return "must be one of " + ", ".join(key.choices)
    elif kind is KeyType.MATCHER or (kind is KeyType.REGEX_OR_EMPTY and value):
        parse_matcher(str(value))
    elif kind is KeyType.EMAIL or (kind is KeyType.EMAIL_OR_EMPTY and value):
        if not _EMAIL.match(str(value)):
            return "must be an e-mail address like name@example.com"
    elif kind is KeyType.NETWORKS:
        assert isinstance(value, list)
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                return f"{item!r} is not a network (write e.g. 192.168.0.0/16 or 127.0.0.1)"
    elif kind is KeyType.CRON:
        fields = str(value).split()
        if len(fields) != 5 or not all(_CRON_FIELD.match(f) for f in fields):
            return "must be a cron schedule of five fields, e.g. '30 3 * * 0' (Sundays 03:30)"
    elif kind is KeyType.HOST_PORT_OR_EMPTY and value:
        host, _, port = str(value).rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            return "must be host:port, e.g. 192.0.2.10:4569"
    return None


class Registry:
    """All keys by name."""

    def __init__(self, keys: Iterable[Key]) -> None:
        self._keys: dict[str, Key] = {}
        for key in keys:
            if key.name in self._keys:
                raise ValueError(f"settings key {key.name} declared twice")
            key.parse(key.default, source="its default")  # a default must pass its own check
            self._keys[key.name] = key

    def __contains__(self, name: object) -> bool:
        return name in self._keys

    def __iter__(self) -> Iterator[Key]:
        return iter(sorted(self._keys.values(), key=lambda k: k.name))

    def __len__(self) -> int:
        return len(self._keys)

    def get(self, name: str) -> Key:
        try:
            return self._keys[name]
        except KeyError:
            raise SettingsError(f"{name}: there is no such settings key") from None

    def get_checked(self, name: str, source: str) -> Key:
        """Like get, but the error names where the unknown key was written."""
        if name not in self._keys:
            raise SettingsError(f"{name} (from {source}): there is no such settings key")
        return self._keys[name]

    def keys(self) -> list[Key]:
        return sorted(self._keys.values(), key=lambda k: k.name)

    def by_environment_name(self) -> dict[str, Key]:
        return {key.environment_name: key for key in self._keys.values()}
