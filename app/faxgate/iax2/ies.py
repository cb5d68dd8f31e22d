"""Information elements: the typed key/value list an IAX (type 6) full frame carries.

Each IE is one octet of type, one octet of length and that many octets of data (RFC 5456 8.6).
Parsing is strict: a truncated element, or a known element whose length does not fit its kind
(VERSION is always 2 octets, FORMAT 4, ...), raises `ValueError`. Elements faxgate does not know
are kept as raw bytes and written back unchanged, so a frame always re-encodes byte for byte.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import Enum

from faxgate.iax2.constants import IeType


class IeKind(Enum):
    """How the data of an information element is encoded."""

    STRING = "string"  # UTF-8 text (undecodable bytes are kept via surrogateescape)
    BYTES = "bytes"  # opaque octets, any length
    EMPTY = "empty"  # presence is the information
    UINT8 = "uint8"
    UINT16 = "uint16"
    UINT32 = "uint32"
    ADDRESS = "address"  # a C `struct sockaddr_in`/`sockaddr_in6` as Asterisk sends it
    VERSIONED_UINT64 = "versioned_uint64"  # one version octet + 64-bit value (CAPABILITY2/FORMAT2)


_KIND_OF: dict[int, IeKind] = {
    IeType.CALLED_NUMBER: IeKind.STRING,
    IeType.CALLING_NUMBER: IeKind.STRING,
    IeType.CALLING_ANI: IeKind.STRING,
    IeType.CALLING_NAME: IeKind.STRING,
    IeType.CALLED_CONTEXT: IeKind.STRING,
    IeType.USERNAME: IeKind.STRING,
    IeType.PASSWORD: IeKind.STRING,
    IeType.CAPABILITY: IeKind.UINT32,
    IeType.FORMAT: IeKind.UINT32,
    IeType.LANGUAGE: IeKind.STRING,
    IeType.VERSION: IeKind.UINT16,
    IeType.ADSICPE: IeKind.UINT16,
    IeType.DNID: IeKind.STRING,
    IeType.AUTHMETHODS: IeKind.UINT16,
    IeType.CHALLENGE: IeKind.STRING,
    IeType.MD5_RESULT: IeKind.STRING,
    IeType.RSA_RESULT: IeKind.STRING,
    IeType.APPARENT_ADDR: IeKind.ADDRESS,
    IeType.REFRESH: IeKind.UINT16,
    IeType.DPSTATUS: IeKind.UINT16,
    IeType.CALLNO: IeKind.UINT16,
    IeType.CAUSE: IeKind.STRING,
    IeType.IAX_UNKNOWN: IeKind.UINT8,
    IeType.MSGCOUNT: IeKind.UINT16,
    IeType.AUTOANSWER: IeKind.EMPTY,
    IeType.MUSICONHOLD: IeKind.STRING,
    IeType.TRANSFERID: IeKind.UINT32,
    IeType.RDNIS: IeKind.STRING,
    IeType.DATETIME: IeKind.UINT32,
    IeType.DEVICETYPE: IeKind.STRING,
    IeType.FIRMWAREVER: IeKind.UINT16,
    IeType.FWBLOCKDESC: IeKind.UINT32,
    IeType.PROVVER: IeKind.UINT32,
    IeType.CALLINGPRES: IeKind.UINT8,
    IeType.CALLINGTON: IeKind.UINT8,
    IeType.CALLINGTNS: IeKind.UINT16,
    IeType.SAMPLINGRATE: IeKind.UINT16,
    IeType.CAUSECODE: IeKind.UINT8,
    IeType.ENCRYPTION: IeKind.UINT16,
    IeType.RR_JITTER: IeKind.UINT32,
    IeType.RR_LOSS: IeKind.UINT32,
    IeType.RR_PKTS: IeKind.UINT32,
    IeType.RR_DELAY: IeKind.UINT16,
    IeType.RR_DROPPED: IeKind.UINT32,
    IeType.RR_OOO: IeKind.UINT32,
    IeType.CAPABILITY2: IeKind.VERSIONED_UINT64,
    IeType.FORMAT2: IeKind.VERSIONED_UINT64,
}
_FIXED_LENGTH = {
    IeKind.EMPTY: 0,
    IeKind.UINT8: 1,
    IeKind.UINT16: 2,
    IeKind.UINT32: 4,
    IeKind.VERSIONED_UINT64: 9,
}
_INT_FORMAT = {IeKind.UINT8: "!B", IeKind.UINT16: "!H", IeKind.UINT32: "!I"}
_AF_INET, _AF_INET6 = 2, 10


def kind_of(ie_type: int) -> IeKind:
    """The data encoding of an IE type; unknown types are opaque bytes."""
    return _KIND_OF.get(ie_type, IeKind.BYTES)


def ie_name(ie_type: int) -> str:
    """A readable name for logs: `USERNAME` or `IE_0x5a`."""
    try:
        return IeType(ie_type).name
    except ValueError:
        return f"IE_{ie_type:#04x}"


@dataclass(frozen=True)
class ApparentAddress:
    """APPARENT_ADDR: the address the registrar saw us at, as a raw C sockaddr.

    Asterisk copies `struct sockaddr_in` from memory, so the family is in the sender's byte order
    (little-endian on x86) while port and address are in network order. `family_bytes` and the
    trailing `padding` are kept as received so the element re-encodes exactly.
    """

    host: str
    port: int
    family_bytes: bytes = struct.pack("<H", _AF_INET)
    padding: bytes = bytes(8)

    @classmethod
    def parse(cls, data: bytes) -> ApparentAddress:
        if len(data) == 16:
            port = struct.unpack_from("!H", data, 2)[0]
            host = str(ipaddress.IPv4Address(data[4:8]))
            return cls(host, port, data[0:2], data[8:16])
        if len(data) == 28:  # sockaddr_in6: family, port, flowinfo, address, scope id
            port = struct.unpack_from("!H", data, 2)[0]
            host = str(ipaddress.IPv6Address(data[8:24]))
            return cls(host, port, data[0:2], data[4:8] + data[24:28])
        raise ValueError(f"APPARENT_ADDR must be 16 or 28 octets, got {len(data)}")

    def __bytes__(self) -> bytes:
        address = ipaddress.ip_address(self.host)
        port = struct.pack("!H", self.port)
        if address.version == 4:
            if len(self.padding) != 8:
                raise ValueError("APPARENT_ADDR IPv4 padding must be 8 octets")
            return self.family_bytes + port + address.packed + self.padding
        if len(self.padding) != 8:
            raise ValueError("APPARENT_ADDR IPv6 flowinfo+scope must be 8 octets")
        return self.family_bytes + port + self.padding[:4] + address.packed + self.padding[4:]

    @classmethod
    def for_address(cls, host: str, port: int) -> ApparentAddress:
        """Build one for a peer address the way Asterisk on x86 would send it."""
        family = _AF_INET6 if ipaddress.ip_address(host).version == 6 else _AF_INET
        return cls(host, port, struct.pack("<H", family), bytes(8))


@dataclass(frozen=True)
class VersionedValue:
    """CAPABILITY2 / FORMAT2: a version octet (0 today) and a 64-bit format bit mask."""

    version: int
    value: int


IeValue = str | int | bytes | None | ApparentAddress | VersionedValue


def _check_value(ie_type: int, value: IeValue) -> None:
    kind = kind_of(ie_type)
    if kind is IeKind.STRING:
        ok = isinstance(value, str)
    elif kind is IeKind.BYTES:
        ok = isinstance(value, bytes)
    elif kind is IeKind.EMPTY:
        ok = value is None
    elif kind is IeKind.ADDRESS:
        ok = isinstance(value, ApparentAddress)
    elif kind is IeKind.VERSIONED_UINT64:
        ok = isinstance(value, VersionedValue)
    else:
        ok = isinstance(value, int) and not isinstance(value, bool)
    if not ok:
        raise ValueError(f"{ie_name(ie_type)} needs a {kind.value} value, not {value!r}")


@dataclass(frozen=True)
class InformationElement:
    """One IE with its value decoded according to its kind (see `IeKind`)."""

    type: int
    value: IeValue

    def __post_init__(self) -> None:
        if not 0 <= self.type <= 0xFF:
            raise ValueError(f"IE type {self.type} does not fit in one octet")
        _check_value(self.type, self.value)

    @classmethod
    def decode(cls, ie_type: int, data: bytes) -> InformationElement:
        """Decode the data of one IE; raise ValueError if it does not fit the IE's kind."""
        kind = kind_of(ie_type)
        fixed = _FIXED_LENGTH.get(kind)
        if fixed is not None and len(data) != fixed:
            raise ValueError(f"{ie_name(ie_type)} must be {fixed} octets, got {len(data)}")
        value: IeValue
        if kind is IeKind.STRING:
            value = data.decode("utf-8", "surrogateescape")
        elif kind is IeKind.BYTES:
            value = bytes(data)
        elif kind is IeKind.EMPTY:
            value = None
        elif kind is IeKind.ADDRESS:
            value = ApparentAddress.parse(data)
        elif kind is IeKind.VERSIONED_UINT64:
            version, number = struct.unpack("!BQ", data)
            value = VersionedValue(version, number)
        else:
            value = struct.unpack(_INT_FORMAT[kind], data)[0]
        return cls(ie_type, value)

    def data(self) -> bytes:
        """The encoded data octets (without type and length)."""
        kind = kind_of(self.type)
        value = self.value
        if isinstance(value, str):
            return value.encode("utf-8", "surrogateescape")
        if isinstance(value, bytes):
            return value
        if value is None:
            return b""
        if isinstance(value, ApparentAddress):
            return bytes(value)
        if isinstance(value, VersionedValue):
            return struct.pack("!BQ", value.version, value.value)
        try:
            return struct.pack(_INT_FORMAT[kind], value)
        except struct.error as exc:
            raise ValueError(f"{ie_name(self.type)} value {value} out of range") from exc

    def __bytes__(self) -> bytes:
        data = self.data()
        if len(data) > 0xFF:
            raise ValueError(f"{ie_name(self.type)} data is {len(data)} octets, at most 255 fit")
        return bytes((self.type, len(data))) + data


@dataclass(frozen=True)
class InformationElements:
    """The ordered IE list of one IAX frame. Order and duplicates are kept as received."""

    elements: tuple[InformationElement, ...] = ()

    @classmethod
    def build(cls, *pairs: tuple[int, IeValue]) -> InformationElements:
        """Build from `(IeType.X, value)` pairs, e.g. `build((IeType.VERSION, 2))`."""
        return cls(tuple(InformationElement(kind, value) for kind, value in pairs))

    @classmethod
    def parse(cls, data: bytes) -> InformationElements:
        """Parse a whole IE list; any truncated or malformed element raises ValueError."""
        elements: list[InformationElement] = []
        position = 0
        while position < len(data):
            if position + 2 > len(data):
                raise ValueError(f"IE header truncated at octet {position}")
            ie_type, length = data[position], data[position + 1]
            end = position + 2 + length
            if end > len(data):
                raise ValueError(
                    f"{ie_name(ie_type)} claims {length} octets, {len(data) - position - 2} left"
                )
            elements.append(InformationElement.decode(ie_type, data[position + 2 : end]))
            position = end
        return cls(tuple(elements))

    def __bytes__(self) -> bytes:
        return b"".join(bytes(element) for element in self.elements)

    def __iter__(self) -> Iterator[InformationElement]:
        return iter(self.elements)

    def __len__(self) -> int:
        return len(self.elements)

    def __contains__(self, ie_type: object) -> bool:
        return any(element.type == ie_type for element in self.elements)

    def get(self, ie_type: int) -> IeValue:
        """The value of the first IE of that type, or None when absent."""
        for element in self.elements:
            if element.type == ie_type:
                return element.value
        return None

    def text(self, ie_type: int, default: str = "") -> str:
        """A string IE's value, or `default` when absent."""
        value = self.get(ie_type)
        return value if isinstance(value, str) else default

    def number(self, ie_type: int, default: int | None = None) -> int | None:
        """An integer IE's value, or `default` when absent."""
        value = self.get(ie_type)
        return value if isinstance(value, int) else default

    def blob(self, ie_type: int) -> bytes | None:
        """A bytes IE's value, or None when absent."""
        value = self.get(ie_type)
        return value if isinstance(value, bytes) else None

    def types(self) -> Iterable[int]:
        return (element.type for element in self.elements)


def encode_datetime(moment: _dt.datetime) -> int:
    """Pack a UTC time into the DATETIME IE's 32 bits (RFC 5456 8.6.28; 2-second resolution)."""
    utc = moment.astimezone(_dt.UTC) if moment.tzinfo else moment
    if not 2000 <= utc.year <= 2127:
        raise ValueError(f"DATETIME cannot carry the year {utc.year}")
    return (
        (utc.year - 2000) << 25
        | utc.month << 21
        | utc.day << 16
        | utc.hour << 11
        | utc.minute << 5
        | utc.second >> 1
    )


def decode_datetime(packed: int) -> _dt.datetime:
    """Unpack a DATETIME IE value; raises ValueError for an impossible date."""
    return _dt.datetime(
        2000 + (packed >> 25),
        (packed >> 21) & 0x0F,
        (packed >> 16) & 0x1F,
        (packed >> 11) & 0x1F,
        (packed >> 5) & 0x3F,
        (packed & 0x1F) * 2,
        tzinfo=_dt.UTC,
    )
