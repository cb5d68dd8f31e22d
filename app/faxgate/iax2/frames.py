"""IAX2 datagrams as values: full frames, mini frames and meta (trunk, video) frames.

`parse_frame(datagram)` returns one of the frame classes or raises `ValueError`; `bytes(frame)`
encodes it again. Frames are immutable; `dataclasses.replace` makes changed copies (the
retransmission tracker uses it to set the R bit).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from faxgate.iax2.constants import (
    FULL_FRAME_HEADER_LENGTH,
    MAX_CALL_NUMBER,
    MINI_FRAME_HEADER_LENGTH,
    FrameType,
    IaxSubclass,
    IeType,
    MediaFormat,
)
from faxgate.iax2.ies import InformationElements

_FULL_HEADER = struct.Struct("!HHIBBBB")
_FLAG = 0x8000

# IEs without which an IAX message cannot be acted on. Checked at parse time so that a frame
# cut short at an element boundary is refused rather than silently taken for a shorter message.
_REQUIRED_IES: dict[int, tuple[frozenset[int], ...]] = {
    IaxSubclass.NEW: (frozenset({IeType.VERSION}),),
    IaxSubclass.ACCEPT: (frozenset({IeType.FORMAT, IeType.FORMAT2}),),
    IaxSubclass.AUTHREQ: (frozenset({IeType.AUTHMETHODS}), frozenset({IeType.CHALLENGE})),
    IaxSubclass.REGAUTH: (frozenset({IeType.AUTHMETHODS}), frozenset({IeType.CHALLENGE})),
    IaxSubclass.AUTHREP: (frozenset({IeType.MD5_RESULT, IeType.RSA_RESULT}),),
    IaxSubclass.REGREQ: (frozenset({IeType.USERNAME}),),
    IaxSubclass.REGREL: (frozenset({IeType.USERNAME}),),
    IaxSubclass.CALLTOKEN: (frozenset({IeType.CALLTOKEN}),),
    IaxSubclass.UNSUPPORT: (frozenset({IeType.IAX_UNKNOWN}),),
}


def _check_call_number(name: str, value: int, *, allow_zero: bool) -> None:
    lowest = 0 if allow_zero else 1
    if not lowest <= value <= MAX_CALL_NUMBER:
        raise ValueError(f"{name} {value} is outside {lowest}..{MAX_CALL_NUMBER}")


def decode_subclass(octet: int) -> int:
    """Decode the subclass octet: with the C bit set the 7 bits are a power of two."""
    return 1 << (octet & 0x7F) if octet & 0x80 else octet


def encode_subclass(value: int) -> int:
    """Encode a subclass value into one octet the way Asterisk and libiax2 do.

    Values below 0x80 go as they are (iaxmodem sends SLINEAR as 0x40, not 0x86); larger ones
    must be a power of two and are sent as C bit + exponent.
    """
    if 0 <= value < 0x80:
        return value
    if value > 0 and value & (value - 1) == 0 and value.bit_length() - 1 < 0x80:
        return 0x80 | (value.bit_length() - 1)
    raise ValueError(f"subclass {value:#x} is neither < 0x80 nor a power of two")


def subclass_name(frame_type: int, subclass: int) -> str:
    """A readable subclass name for logs."""
    if frame_type == FrameType.IAX:
        try:
            return IaxSubclass(subclass).name
        except ValueError:
            pass
    return f"{subclass:#x}"


@dataclass(frozen=True)
class FullFrame:
    """A reliable frame with the 12-octet header (RFC 5456 8.1.1).

    IAX frames (type 6) carry information elements in `ies` and nothing in `payload`; every
    other type carries its data (audio, text, ...) in `payload`.
    """

    source_call: int
    destination_call: int
    timestamp: int
    oseqno: int
    iseqno: int
    frame_type: int
    subclass: int
    ies: InformationElements = field(default_factory=InformationElements)
    payload: bytes = b""
    retransmission: bool = False

    def __post_init__(self) -> None:
        _check_call_number("source call number", self.source_call, allow_zero=True)
        _check_call_number("destination call number", self.destination_call, allow_zero=True)
        if not 0 <= self.timestamp <= 0xFFFFFFFF:
            raise ValueError(f"timestamp {self.timestamp} does not fit 32 bits")
        if not (0 <= self.oseqno <= 0xFF and 0 <= self.iseqno <= 0xFF):
            raise ValueError("sequence numbers are 8-bit")
        if not 0 <= self.frame_type <= 0xFF:
            raise ValueError(f"frame type {self.frame_type} does not fit one octet")
        encode_subclass(self.subclass)
        if self.frame_type == FrameType.IAX and self.payload:
            raise ValueError("an IAX frame carries information elements, not a payload")
        if self.frame_type != FrameType.IAX and len(self.ies):
            raise ValueError("only IAX frames carry information elements")
        # A full voice frame names its codec, so its payload can be checked: whole samples only.
        slinear = self.frame_type == FrameType.VOICE and self.subclass == MediaFormat.SLINEAR
        if slinear and len(self.payload) % 2:
            raise ValueError(f"SLINEAR voice payload of odd length {len(self.payload)}")
        if self.frame_type == FrameType.IAX:
            for alternatives in _REQUIRED_IES.get(self.subclass, ()):
                if not any(kind in self.ies for kind in alternatives):
                    wanted = " or ".join(sorted(IeType(kind).name for kind in alternatives))
                    name = subclass_name(self.frame_type, self.subclass)
                    raise ValueError(f"{name} lacks the {wanted} information element")

    @classmethod
    def parse(cls, data: bytes) -> FullFrame:
        if len(data) < FULL_FRAME_HEADER_LENGTH:
            raise ValueError(f"full frame needs 12 header octets, got {len(data)}")
        source, destination, timestamp, oseqno, iseqno, frame_type, subclass_octet = (
            _FULL_HEADER.unpack_from(data)
        )
        if not source & _FLAG:
            raise ValueError("F bit clear: not a full frame")
        subclass = decode_subclass(subclass_octet)
        body = bytes(data[FULL_FRAME_HEADER_LENGTH:])
        is_iax = frame_type == FrameType.IAX
        if is_iax and subclass_octet & 0x80:
            raise ValueError("IAX subclasses never use the C bit")
        return cls(
            source_call=source & MAX_CALL_NUMBER,
            destination_call=destination & MAX_CALL_NUMBER,
            timestamp=timestamp,
            oseqno=oseqno,
            iseqno=iseqno,
            frame_type=frame_type,
            subclass=subclass,
            ies=InformationElements.parse(body) if is_iax else InformationElements(),
            payload=b"" if is_iax else body,
            retransmission=bool(destination & _FLAG),
        )

    def __bytes__(self) -> bytes:
        header = _FULL_HEADER.pack(
            _FLAG | self.source_call,
            (_FLAG if self.retransmission else 0) | self.destination_call,
            self.timestamp,
            self.oseqno,
            self.iseqno,
            self.frame_type,
            encode_subclass(self.subclass),
        )
        body = bytes(self.ies) if self.frame_type == FrameType.IAX else self.payload
        return header + body

    def is_iax(self, *subclasses: int) -> bool:
        """True for an IAX frame of one of the given subclasses."""
        return self.frame_type == FrameType.IAX and self.subclass in subclasses

    def describe(self) -> str:
        """One short line for logs."""
        try:
            type_name = FrameType(self.frame_type).name
        except ValueError:
            type_name = str(self.frame_type)
        return (
            f"{type_name}/{subclass_name(self.frame_type, self.subclass)} "
            f"{self.source_call}->{self.destination_call} ts={self.timestamp} "
            f"o={self.oseqno} i={self.iseqno}{' R' if self.retransmission else ''}"
        )


@dataclass(frozen=True)
class MiniFrame:
    """An unreliable voice frame with the 4-octet header (RFC 5456 8.1.2)."""

    source_call: int
    timestamp: int  # the low 16 bits of the sender's call timestamp
    payload: bytes

    def __post_init__(self) -> None:
        _check_call_number("source call number", self.source_call, allow_zero=False)
        if not 0 <= self.timestamp <= 0xFFFF:
            raise ValueError(f"mini frame timestamp {self.timestamp} does not fit 16 bits")

    @classmethod
    def parse(cls, data: bytes) -> MiniFrame:
        if len(data) < MINI_FRAME_HEADER_LENGTH:
            raise ValueError(f"mini frame needs 4 header octets, got {len(data)}")
        source, timestamp = struct.unpack_from("!HH", data)
        if source & _FLAG:
            raise ValueError("F bit set: not a mini frame")
        return cls(source, timestamp, bytes(data[MINI_FRAME_HEADER_LENGTH:]))

    def __bytes__(self) -> bytes:
        return struct.pack("!HH", self.source_call, self.timestamp) + self.payload


@dataclass(frozen=True)
class MetaVideoFrame:
    """A mini video frame behind a zero meta indicator (RFC 5456 8.1.3.1)."""

    source_call: int
    timestamp: int  # 15 bits
    marker: bool  # last packet of a video frame
    payload: bytes

    def __post_init__(self) -> None:
        _check_call_number("source call number", self.source_call, allow_zero=False)
        if not 0 <= self.timestamp <= 0x7FFF:
            raise ValueError("meta video timestamp is 15-bit")

    @classmethod
    def parse(cls, data: bytes) -> MetaVideoFrame:
        if len(data) < 6:
            raise ValueError("meta video frame needs 6 header octets")
        zero, call, timestamp = struct.unpack_from("!HHH", data)
        if zero != 0 or not call & _FLAG:
            raise ValueError("not a meta video frame")
        return cls(call & MAX_CALL_NUMBER, timestamp & 0x7FFF, bool(timestamp & _FLAG), data[6:])

    def __bytes__(self) -> bytes:
        stamp = self.timestamp | (_FLAG if self.marker else 0)
        return struct.pack("!HHH", 0, _FLAG | self.source_call, stamp) + self.payload


@dataclass(frozen=True)
class TrunkEntry:
    """One call's media inside a meta trunk frame; `timestamp` only in timestamped trunks."""

    source_call: int
    payload: bytes
    timestamp: int | None = None


@dataclass(frozen=True)
class MetaTrunkFrame:
    """Several calls' media in one datagram (RFC 5456 8.1.3.2). Parsed so it can be split."""

    timestamp: int
    entries: tuple[TrunkEntry, ...]
    with_timestamps: bool

    META_TRUNK_COMMAND = 1

    @classmethod
    def parse(cls, data: bytes) -> MetaTrunkFrame:
        if len(data) < 8:
            raise ValueError("meta trunk frame needs 8 header octets")
        zero, command, flags, timestamp = struct.unpack_from("!HBBI", data)
        if zero != 0 or command != cls.META_TRUNK_COMMAND:
            raise ValueError(f"unknown meta command {command:#x}")
        with_timestamps = bool(flags & 1)
        entries: list[TrunkEntry] = []
        position = 8
        while position < len(data):
            if position + (6 if with_timestamps else 4) > len(data):
                raise ValueError("trunk entry header truncated")
            if with_timestamps:
                length, call, stamp = struct.unpack_from("!HHH", data, position)
                position += 6
            else:
                call, length = struct.unpack_from("!HH", data, position)
                stamp = None
                position += 4
            if position + length > len(data):
                raise ValueError("trunk entry data truncated")
            call &= MAX_CALL_NUMBER
            _check_call_number("trunk entry call number", call, allow_zero=False)
            entries.append(TrunkEntry(call, data[position : position + length], stamp))
            position += length
        return cls(timestamp, tuple(entries), with_timestamps)

    def __bytes__(self) -> bytes:
        out = [
            struct.pack(
                "!HBBI", 0, self.META_TRUNK_COMMAND, int(self.with_timestamps), self.timestamp
            )
        ]
        for entry in self.entries:
            if self.with_timestamps:
                out.append(
                    struct.pack("!HHH", len(entry.payload), entry.source_call, entry.timestamp or 0)
                )
            else:
                out.append(struct.pack("!HH", entry.source_call, len(entry.payload)))
            out.append(entry.payload)
        return b"".join(out)


Frame = FullFrame | MiniFrame | MetaVideoFrame | MetaTrunkFrame


def parse_frame(data: bytes) -> Frame:
    """Parse one UDP datagram; raise ValueError if it is not a well-formed IAX2 frame."""
    if len(data) < 2:
        raise ValueError(f"datagram of {len(data)} octets is too short for IAX2")
    first = (data[0] << 8) | data[1]
    if first & _FLAG:
        return FullFrame.parse(data)
    if first != 0:
        return MiniFrame.parse(data)
    if len(data) >= 4 and data[2] & 0x80:
        return MetaVideoFrame.parse(data)
    return MetaTrunkFrame.parse(data)
