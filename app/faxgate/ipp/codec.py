"""RFC 8010 encoding of IPP messages, without I/O.

A message is a version, an operation or status code, a request id, attribute groups and the
document data that follows the end tag. `decode_message(bytes)` parses one strictly: any
truncation or malformed field raises `IppDecodeError` (a `ProtocolError`) naming what was cut
short, never an IndexError or a struct.error. `encode_message(message)` is its inverse for every
value this module can represent, so captured requests round-trip byte for byte.
"""

from __future__ import annotations

import datetime as dt
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from faxgate.errors import ProtocolError
from faxgate.ipp.constants import OUT_OF_BAND_TAGS, STRING_TAGS, GroupTag, ValueTag


class IppDecodeError(ProtocolError):
    """The bytes are not a well-formed IPP message (the message says where and why)."""


@dataclass(frozen=True)
class Resolution:
    x: int
    y: int
    units: int = 3  # 3: dots per inch, 4: dots per centimetre

    DPI = 3


@dataclass(frozen=True)
class IntRange:
    lower: int
    upper: int


@dataclass(frozen=True)
class LanguageString:
    """textWithLanguage / nameWithLanguage."""

    language: str
    text: str


@dataclass(frozen=True)
class Collection:
    """A collection value: its member attributes in order."""

    members: tuple[Attribute, ...]

    def get(self, name: str) -> Attribute | None:
        for member in self.members:
            if member.name == name:
                return member
        return None


ValueData = (
    int
    | bool
    | str
    | bytes
    | dt.datetime
    | Resolution
    | IntRange
    | LanguageString
    | Collection
    | None
)


@dataclass(frozen=True)
class Value:
    """One value with its own tag (a 1setOf may mix tags, e.g. integer and no-value)."""

    tag: int
    data: ValueData


@dataclass
class Attribute:
    name: str
    values: list[Value]

    @property
    def tag(self) -> int:
        return self.values[0].tag

    @property
    def first(self) -> ValueData:
        return self.values[0].data

    @classmethod
    def of(cls, name: str, tag: int, *data: ValueData) -> Attribute:
        return cls(name, [Value(tag, item) for item in data])


@dataclass
class AttributeGroup:
    tag: int
    attributes: list[Attribute] = field(default_factory=list)

    def get(self, name: str) -> Attribute | None:
        for attribute in self.attributes:
            if attribute.name == name:
                return attribute
        return None

    def add(self, attribute: Attribute) -> None:
        self.attributes.append(attribute)


@dataclass
class Message:
    """A request (`code` = operation id) or response (`code` = status code)."""

    version: tuple[int, int]
    code: int
    request_id: int
    groups: list[AttributeGroup] = field(default_factory=list)
    data: bytes = b""

    def group(self, tag: int) -> AttributeGroup | None:
        for group in self.groups:
            if group.tag == tag:
                return group
        return None

    def groups_of(self, tag: int) -> list[AttributeGroup]:
        return [group for group in self.groups if group.tag == tag]

    @property
    def operation_attributes(self) -> AttributeGroup:
        return self.group(GroupTag.OPERATION) or AttributeGroup(GroupTag.OPERATION)


# ---------------------------------------------------------------------------------------------
# decoding


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, count: int, what: str) -> bytes:
        end = self.pos + count
        if end > len(self.data):
            raise IppDecodeError(
                f"message truncated in {what}: needs {count} bytes at offset {self.pos}, "
                f"only {len(self.data) - self.pos} left"
            )
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def u8(self, what: str) -> int:
        return self.take(1, what)[0]

    def u16(self, what: str) -> int:
        value: int = struct.unpack(">H", self.take(2, what))[0]
        return value

    def peek(self, what: str) -> int:
        if self.pos >= len(self.data):
            raise IppDecodeError(f"message truncated before {what} at offset {self.pos}")
        return self.data[self.pos]


def decode_message(data: bytes) -> Message:
    """Parse one IPP message; `data` after the end-of-attributes tag is the document."""
    reader = _Reader(data)
    major = reader.u8("version")
    minor = reader.u8("version")
    code = reader.u16("operation/status code")
    (request_id,) = struct.unpack(">i", reader.take(4, "request id"))
    message = Message(version=(major, minor), code=code, request_id=request_id)
    group: AttributeGroup | None = None
    current: Attribute | None = None
    while True:
        tag = reader.u8("attribute tag")
        if tag == GroupTag.END:
            break
        if tag < 0x10:
            if tag == 0x00:
                raise IppDecodeError(f"reserved tag 0x00 at offset {reader.pos - 1}")
            group = AttributeGroup(tag)
            message.groups.append(group)
            current = None
            continue
        if group is None:
            raise IppDecodeError(f"attribute before any group tag at offset {reader.pos - 1}")
        name, value = _read_value(reader, tag)
        if name:
            current = Attribute(name, [value])
            group.add(current)
        elif current is None:
            raise IppDecodeError(f"additional value without an attribute at offset {reader.pos}")
        else:
            current.values.append(value)
    message.data = data[reader.pos :]
    return message


def _read_value(reader: _Reader, tag: int) -> tuple[str, Value]:
    if tag == ValueTag.EXTENSION:
        raise IppDecodeError("extension value tags (0x7f) are not supported")
    name_length = reader.u16("attribute name length")
    name = _text(reader.take(name_length, "attribute name"), "attribute name")
    value_length = reader.u16(f"value length of {name or 'additional value'}")
    raw = reader.take(value_length, f"value of {name or 'additional value'}")
    if tag == ValueTag.BEGIN_COLLECTION:
        return name, Value(tag, _read_collection(reader))
    return name, Value(tag, _decode_value(tag, raw, name))


def _read_collection(reader: _Reader) -> Collection:
    members: list[Attribute] = []
    current: Attribute | None = None
    while True:
        tag = reader.u8("collection member tag")
        if tag < 0x10:
            raise IppDecodeError(f"collection not closed before group tag 0x{tag:02x}")
        name, value = _read_value(reader, tag)
        if name:
            raise IppDecodeError(f"collection member value with a name ({name!r})")
        if tag == ValueTag.END_COLLECTION:
            return Collection(tuple(members))
        if tag == ValueTag.MEMBER_ATTR_NAME:
            assert isinstance(value.data, str)
            if not value.data:
                raise IppDecodeError("empty collection member name")
            current = Attribute(value.data, [])
            members.append(current)
            continue
        if current is None:
            raise IppDecodeError("collection value before its memberAttrName")
        current.values.append(value)


def _text(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IppDecodeError(f"{what} is not UTF-8") from exc


def _decode_value(tag: int, raw: bytes, name: str) -> ValueData:
    def need(length: int) -> None:
        if len(raw) != length:
            raise IppDecodeError(
                f"value of {name or 'additional value'} (tag 0x{tag:02x}) has {len(raw)} bytes, "
                f"expected {length}"
            )

    if tag in OUT_OF_BAND_TAGS:
        return None
    if tag in (ValueTag.INTEGER, ValueTag.ENUM):
        need(4)
        value: int = struct.unpack(">i", raw)[0]
        return value
    if tag == ValueTag.BOOLEAN:
        need(1)
        return raw != b"\x00"
    if tag == ValueTag.DATE_TIME:
        need(11)
        return _decode_datetime(raw)
    if tag == ValueTag.RESOLUTION:
        need(9)
        x, y, units = struct.unpack(">iib", raw)
        return Resolution(x, y, units)
    if tag == ValueTag.RANGE_OF_INTEGER:
        need(8)
        lower, upper = struct.unpack(">ii", raw)
        return IntRange(lower, upper)
    if tag in (ValueTag.TEXT_WITH_LANGUAGE, ValueTag.NAME_WITH_LANGUAGE):
        inner = _Reader(raw)
        language = _text(inner.take(inner.u16("language length"), "language"), "language")
        text = _text(inner.take(inner.u16("text length"), "text"), name)
        if inner.pos != len(raw):
            raise IppDecodeError(f"trailing bytes in the value of {name}")
        return LanguageString(language, text)
    if tag in STRING_TAGS or 0x40 <= tag <= 0x5F:
        return _text(raw, f"value of {name or 'additional value'}")
    return raw  # octetString and unknown tags keep their bytes


def _decode_datetime(raw: bytes) -> dt.datetime:
    year, month, day, hour, minute, second, decis, sign, off_h, off_m = struct.unpack(
        ">HBBBBBBcBB", raw
    )
    offset = dt.timedelta(hours=off_h, minutes=off_m)
    try:
        return dt.datetime(
            year, month, day, hour, minute, second, decis * 100_000,
            tzinfo=dt.timezone(-offset if sign == b"-" else offset),
        )  # fmt: skip
    except ValueError as exc:
        raise IppDecodeError(f"invalid dateTime value: {exc}") from exc


# ---------------------------------------------------------------------------------------------
# encoding


def encode_message(message: Message) -> bytes:
    """The wire form of `message` (attribute groups, end tag, then the document data)."""
    parts: list[bytes] = [
        struct.pack(
            ">BBHi", message.version[0], message.version[1], message.code, message.request_id
        )
    ]
    for group in message.groups:
        parts.append(bytes([group.tag]))
        for attribute in group.attributes:
            parts.extend(_encode_attribute(attribute))
    parts.append(bytes([GroupTag.END]))
    parts.append(message.data)
    return b"".join(parts)


def _encode_attribute(attribute: Attribute) -> Iterator[bytes]:
    name = attribute.name.encode()
    for index, value in enumerate(attribute.values):
        yield from _encode_value(name if index == 0 else b"", value)


def _encode_value(name: bytes, value: Value) -> Iterator[bytes]:
    if isinstance(value.data, Collection):
        yield _tlv(ValueTag.BEGIN_COLLECTION, name, b"")
        for member in value.data.members:
            yield _tlv(ValueTag.MEMBER_ATTR_NAME, b"", member.name.encode())
            for item in member.values:
                yield from _encode_value(b"", item)
        yield _tlv(ValueTag.END_COLLECTION, b"", b"")
        return
    yield _tlv(value.tag, name, _encode_data(value))


def _tlv(tag: int, name: bytes, raw: bytes) -> bytes:
    if len(name) > 0xFFFF or len(raw) > 0xFFFF:
        raise ValueError("IPP name or value longer than 65535 bytes")
    return struct.pack(">BH", tag, len(name)) + name + struct.pack(">H", len(raw)) + raw


def _encode_data(value: Value) -> bytes:
    data, tag = value.data, value.tag
    if data is None:
        return b""
    if isinstance(data, bool):
        return b"\x01" if data else b"\x00"
    if isinstance(data, int):
        return struct.pack(">i", data)
    if isinstance(data, str):
        return data.encode()
    if isinstance(data, bytes):
        return data
    if isinstance(data, Resolution):
        return struct.pack(">iib", data.x, data.y, data.units)
    if isinstance(data, IntRange):
        return struct.pack(">ii", data.lower, data.upper)
    if isinstance(data, LanguageString):
        language, text = data.language.encode(), data.text.encode()
        return struct.pack(">H", len(language)) + language + struct.pack(">H", len(text)) + text
    if isinstance(data, dt.datetime):
        return _encode_datetime(data)
    raise TypeError(f"cannot encode {type(data).__name__} with tag 0x{tag:02x}")


def _encode_datetime(moment: dt.datetime) -> bytes:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    offset = moment.utcoffset() or dt.timedelta()
    minutes = int(offset.total_seconds() // 60)
    sign = b"-" if minutes < 0 else b"+"
    minutes = abs(minutes)
    return struct.pack(
        ">HBBBBBBcBB",
        moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second,
        moment.microsecond // 100_000, sign, minutes // 60, minutes % 60,
    )  # fmt: skip


def attribute_names(groups: Iterable[AttributeGroup]) -> list[str]:
    """Every attribute name in `groups`, in order (for logs and tests)."""
    return [attribute.name for group in groups for attribute in group.attributes]


def attributes_length(data: bytes) -> int | None:
    """Bytes up to and including the end-of-attributes tag, or None when `data` is too short.

    Only the framing is followed (tags and lengths), so a server reading a request from a
    socket knows when it has the whole attribute section and can stream the document after it.
    """
    pos = 8
    while True:
        if pos >= len(data):
            return None
        tag = data[pos]
        pos += 1
        if tag == GroupTag.END:
            return pos
        if tag < 0x10:
            continue
        for _ in range(2):  # name, then value: each a 2-byte length and its bytes
            if pos + 2 > len(data):
                return None
            pos += 2 + struct.unpack(">H", data[pos : pos + 2])[0]
