"""G.711 µ-law and A-law in numpy: the codec round trip a fax call may go through on a trunk.

Plain lookup tables built once from the ITU-T G.711 segment rules (the classic Sun reference
algorithm), so the loopback can put fax audio through exactly what an 8-bit IAX2 trunk does to it.
This module depends on nothing else in faxgate on purpose (the IAX2 package has its own codecs).
"""

from __future__ import annotations

import enum
import functools

import numpy as np
import numpy.typing as npt

_ULAW_BIAS = 0x84
_ULAW_CLIP = 8159  # in 14-bit units
_ULAW_SEGMENT_ENDS = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
_ALAW_SEGMENT_ENDS = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)


class Codec(enum.Enum):
    """How audio travels between the two terminals."""

    SLINEAR = "slinear"  # 16-bit linear: lossless
    ULAW = "ulaw"
    ALAW = "alaw"


def _linear_to_ulaw(sample: int) -> int:
    value = sample >> 2  # µ-law works on 14-bit samples
    if value < 0:
        value, mask = -value, 0x7F
    else:
        mask = 0xFF
    value = min(value, _ULAW_CLIP) + (_ULAW_BIAS >> 2)
    segment = next((i for i, end in enumerate(_ULAW_SEGMENT_ENDS) if value <= end), 8)
    if segment >= 8:
        return 0x7F ^ mask
    return ((segment << 4) | ((value >> (segment + 1)) & 0x0F)) ^ mask


def _ulaw_to_linear(code: int) -> int:
    code = ~code & 0xFF
    exponent = (code >> 4) & 0x07
    magnitude = ((((code & 0x0F) << 3) + _ULAW_BIAS) << exponent) - _ULAW_BIAS
    return -magnitude if code & 0x80 else magnitude


def _linear_to_alaw(sample: int) -> int:
    value = sample >> 3  # A-law works on 13-bit samples
    if value >= 0:
        mask = 0xD5
    else:
        mask = 0x55
        value = -value - 1
    segment = next((i for i, end in enumerate(_ALAW_SEGMENT_ENDS) if value <= end), 8)
    if segment >= 8:
        return 0x7F ^ mask
    code = segment << 4
    code |= (value >> 1) & 0x0F if segment < 2 else (value >> segment) & 0x0F
    return code ^ mask


def _alaw_to_linear(code: int) -> int:
    code ^= 0x55
    magnitude = (code & 0x0F) << 4
    segment = (code & 0x70) >> 4
    if segment == 0:
        magnitude += 8
    else:
        magnitude = (magnitude + 0x108) << (segment - 1)
    return magnitude if code & 0x80 else -magnitude


@functools.cache
def _tables(codec: Codec) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int16]]:
    """(encode table indexed by sample + 32768, decode table indexed by code)."""
    if codec is Codec.ULAW:
        encode, decode = _linear_to_ulaw, _ulaw_to_linear
    elif codec is Codec.ALAW:
        encode, decode = _linear_to_alaw, _alaw_to_linear
    else:
        raise ValueError(f"{codec.value} is not a companding codec")
    encode_table = np.array([encode(s) for s in range(-32768, 32768)], dtype=np.uint8)
    decode_table = np.array([decode(c) for c in range(256)], dtype=np.int16)
    return encode_table, decode_table


def encode(samples: npt.NDArray[np.int16], codec: Codec) -> bytes:
    """16-bit linear samples to G.711 bytes."""
    encode_table, _ = _tables(codec)
    return encode_table[samples.astype(np.int32) + 32768].tobytes()


def decode(payload: bytes, codec: Codec) -> npt.NDArray[np.int16]:
    """G.711 bytes to 16-bit linear samples."""
    _, decode_table = _tables(codec)
    return decode_table[np.frombuffer(payload, dtype=np.uint8)]


def round_trip(samples: npt.NDArray[np.int16], codec: Codec) -> npt.NDArray[np.int16]:
    """What the far end hears after `codec` (unchanged for slinear)."""
    if codec is Codec.SLINEAR:
        return samples
    encode_table, decode_table = _tables(codec)
    return decode_table[encode_table[samples.astype(np.int32) + 32768]]
